# Compile through ccache when it is installed. Precompiled headers need the sloppiness below,
# or ccache never hits on a translation unit that uses one. The base directory makes paths relative,
# so that a second clone or worktree of the project hits the same cache.
find_program(SEQPACK_CCACHE ccache)
if(SEQPACK_CCACHE)
  set(_launcher ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      "CCACHE_BASEDIR=${CMAKE_SOURCE_DIR}"
      ${SEQPACK_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${_launcher})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${_launcher})
  message(STATUS "seqpack: compiling through ${SEQPACK_CCACHE}")
endif()
