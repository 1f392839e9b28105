# SEQPACK_FUZZ: every translation unit (the library included) gets libFuzzer's coverage
# instrumentation and the sanitizers, so that the fuzzer sees the branches of seqpack's own code;
# only the fuzz targets link libFuzzer itself (-fsanitize=fuzzer, impl/fuzz/CMakeLists.txt).
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "seqpack: SEQPACK_FUZZ needs clang++ (libFuzzer); use the fuzz preset")
endif()
set(_fuzz -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
add_compile_options(${_fuzz})
add_link_options(${_fuzz})
