# SEQPACK_FUZZ (the asan-ubsan preset): every translation unit, the library included, gets
# libFuzzer's coverage instrumentation on top of the sanitizers, so that the fuzzer sees the
# branches of seqpack's own code; only the fuzz targets link libFuzzer itself (-fsanitize=fuzzer,
# impl/fuzz/CMakeLists.txt). The tests link no libFuzzer: the sanitizer runtime answers the
# coverage callbacks.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "seqpack: SEQPACK_FUZZ needs clang++ (libFuzzer); use the asan-ubsan preset")
endif()
if(NOT SEQPACK_SANITIZE)
  message(FATAL_ERROR "seqpack: SEQPACK_FUZZ needs SEQPACK_SANITIZE (libFuzzer finds crashes "
                      "through them); use the asan-ubsan preset")
endif()
add_compile_options(-fsanitize=fuzzer-no-link)
add_link_options(-fsanitize=fuzzer-no-link)
