# depthd on Debian 12, in two stages: the whole project is compiled in `build`, and `runtime`
# holds the two binaries, the embedded model and the shared libraries they need, nothing else.
#   scripts/build-image.sh            buildah, no daemon: builds, runs and checks the image
#   docker build -t depthd .          the same with Docker
#   docker run -p 127.0.0.1:50051:50051 -p 127.0.0.1:9464:9464 -v depthd-state:/var/lib/depthd depthd
#
# The default command serves plaintext gRPC on every interface (--allow_insecure): meant for a
# private network (a compose network, a Kubernetes pod network behind a NetworkPolicy or a mesh).
# Anywhere else give it a certificate and tokens instead, e.g.
#   docker run ... -v /etc/depthd:/etc/depthd:ro depthd --listen 0.0.0.0:50051 \
#     --metrics_listen 0.0.0.0:9464 --tls_cert /etc/depthd/tls.crt --tls_key /etc/depthd/tls.key \
#     --auth_tokens /etc/depthd/tokens
ARG BASE=debian:12

FROM ${BASE} AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# A compiler cache mounted by the builder (scripts/build-image.sh does when CCACHE_DIR is set);
# without one the build is the same, only slower.
ARG CCACHE_DIR=
ARG JOBS=
RUN launcher=""; if [ -n "$CCACHE_DIR" ] && [ -d "$CCACHE_DIR" ]; then \
      launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"; export CCACHE_BASEDIR=/src CCACHE_NOHASHDIR=1; fi \
 && cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DDEPTHD_BUILD_TESTS=OFF \
      -DCMAKE_INSTALL_PREFIX=/opt/depthd $launcher \
 && cmake --build build -j"${JOBS:-$(nproc)}" --target depthd depthctl \
 && cmake --install build --strip \
 && mkdir -p /opt/depthd/share/depthd/models \
 && cp models/tinysnippet.pt models/tinysnippet.json /opt/depthd/share/depthd/models/

FROM ${BASE} AS runtime
# Runtime libraries only (what `readelf -d` of depthd and depthctl needs, by package); Debian
# splits LibTorch into libtorch1.13 (runtime) and libtorch-dev.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libtorch1.13 libopenblas0-openmp \
      libgrpc++1.51 libgrpc29 libprotobuf32 libabsl20220623 \
      libopencv-core406 libopencv-imgproc406 libopencv-imgcodecs406 libopencv-videoio406 \
      libavformat59 libavcodec59 libavutil57 libswscale6 \
      libsqlite3-0 libmicrohttpd12 libssl3 libtcmalloc-minimal4 libprometheus-cpp-core1.0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/depthd --create-home \
      --shell /usr/sbin/nologin depthd
COPY --from=build /opt/depthd /opt/depthd
ENV PATH=/opt/depthd/bin:$PATH TMPDIR=/var/lib/depthd
# The job database, uploads and results (--state_dir): a volume, so they outlive the container.
VOLUME /var/lib/depthd
USER 10001:10001
EXPOSE 50051 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["depthctl", "--server", "127.0.0.1:50051", "health"]
# On SIGTERM depthd stops admitting, gives running jobs --shutdown_grace (30 s) and exits:
# give the container longer than that (docker stop -t 45, stop_grace_period, Kubernetes'
# terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
ENTRYPOINT ["depthd", "--state_dir=/var/lib/depthd"]
CMD ["--listen", "0.0.0.0:50051", "--metrics_listen", "0.0.0.0:9464", "--allow_insecure"]
