# depthd on Debian 12. Build: docker build -t depthd .
# Run:   docker run -p 50051:50051 -p 9464:9464 depthd
FROM debian:12 AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEPTHD_BUILD_TESTS=OFF \
      -DCMAKE_INSTALL_PREFIX=/opt/depthd \
 && cmake --build build -j"$(nproc)" --target depthd depthctl \
 && cmake --install build \
 && mkdir -p /opt/depthd/share/depthd/models && cp models/tinysnippet.* /opt/depthd/share/depthd/models/

FROM debian:12 AS runtime
# Runtime libraries only. Debian splits LibTorch as libtorch1.13 (runtime) / libtorch-dev.
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libtorch1.13 libopenblas0-openmp libgrpc++1.51 libprotobuf32 \
      libopencv-core406 libopencv-imgproc406 libopencv-imgcodecs406 libopencv-videoio406 \
      libabsl20220623 libprometheus-cpp-core1.0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/depthd --create-home depthd
COPY --from=build /opt/depthd /opt/depthd
ENV PATH=/opt/depthd/bin:$PATH TMPDIR=/var/lib/depthd
USER depthd
EXPOSE 50051 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["depthctl", "--server", "127.0.0.1:50051", "health"]
ENTRYPOINT ["depthd"]
CMD ["--listen", "0.0.0.0:50051", "--metrics_listen", "0.0.0.0:9464"]
