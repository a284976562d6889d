# DEPTHD_FUZZ: core/ (the fuzz targets' code under test; only core/media is built whole, the
# targets compile the few other sources they need), the generated depthd.v1 API (the request
# sequence) and tests/fuzz. Included from the top-level CMakeLists.txt, which returns
# after it: no tools, benchmarks, server, client or tests are configured.
add_subdirectory(core/media)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
add_subdirectory(proto)
add_subdirectory(tests/fuzz)
