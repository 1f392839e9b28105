# LibTorch is the one inside the pinned Python environment that scripts/setup.sh creates, found
# through torch.utils.cmake_prefix_path, never a stray system copy.
set(SEQPACK_PYTHON "$ENV{HOME}/.cache/seqpack/venv-current/bin/python" CACHE FILEPATH
    "Python of the venv made by scripts/setup.sh")
if(NOT EXISTS "${SEQPACK_PYTHON}")
  message(FATAL_ERROR "seqpack: no Python at ${SEQPACK_PYTHON}. Run scripts/setup.sh first, "
                      "or pass -DSEQPACK_PYTHON=/path/to/venv/bin/python.")
endif()
execute_process(
  COMMAND "${SEQPACK_PYTHON}" -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
  OUTPUT_VARIABLE _torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "seqpack: ${SEQPACK_PYTHON} cannot import torch. Run scripts/setup.sh.")
endif()
list(PREPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
# CUDA is compiled when nvcc is found and SEQPACK_CUDA is on. It must be decided before Torch is
# found: Torch's CUDA wheel looks for the toolkit itself, and a CPU-only build tells it not to.
set(SEQPACK_HAVE_CUDA OFF)
# The wheel's Torch config always looks for the CUDA toolkit (even for a CPU-only seqpack build);
# naming the architecture stops it from trying to run a GPU probe on a machine without one.
set(TORCH_CUDA_ARCH_LIST "9.0" CACHE STRING "GPU architectures for Torch's CUDA flags")
if(SEQPACK_CUDA)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90)  # Hopper, the GPUs this project is measured on
    endif()
    enable_language(CUDA)
    # CMake 3.25 knows no C++20 dialect flag for nvcc, which Torch's headers need: name it.
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    list(APPEND CMAKE_CUDA_COMPILE_FEATURES cuda_std_20)
    set(SEQPACK_HAVE_CUDA ON)
  else()
    message(STATUS "seqpack: nvcc not found, building without CUDA")
  endif()
endif()
find_package(Torch REQUIRED)
# libtorch_cuda needs the CUDA libraries of the wheel (nvidia/*/lib beside torch), which may be
# newer than the system's copies: point the linker at them so that it checks against the right ones.
file(GLOB SEQPACK_WHEEL_CUDA_LIBS LIST_DIRECTORIES true "${_torch_prefix}/../../../nvidia/*/lib"
     "${_torch_prefix}/../../../nvidia/cu*/lib")
foreach(_dir IN LISTS SEQPACK_WHEEL_CUDA_LIBS)
  add_link_options("LINKER:-rpath-link,${_dir}")
endforeach()
message(STATUS "seqpack: Torch ${Torch_VERSION} from ${Torch_DIR}; CUDA sources: ${SEQPACK_HAVE_CUDA}")
