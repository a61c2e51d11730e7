# CUDA backend (backends/cuda), included by the top-level CMakeLists.txt after the ctnn target.
#
# Two targets, so that the CPU library never needs CUDA:
#   ctnn::ctnn   headers + oneDNN (CPU); knows nothing of CUDA
#   ctnn::cuda   ctnn::ctnn + the CUDA backend: defines CTNN_WITH_CUDA, links the kernels library
#                (ctnn_cuda_kernels), CUDA::cudart, CUDA::cublas and cuDNN (ctnn::cudnn)
# Installed, ctnn::cuda is the package's optional component: find_package(ctnn COMPONENTS cuda).
#
# CTNN_WITH_CUDA defaults to ON when nvcc, the CUDA toolkit (cuBLAS) and cuDNN are all found.
# The backend's host code is headers like the rest of ctnn (any .cpp may use ctnn::cuda); only
# its kernels (backends/cuda/kernels/*.cu) are compiled, once, by nvcc into the static library
# ctnn_cuda_kernels. Why not kernels in headers for nvcc-compiled consumers: nvcc
# 13's front end cannot compile oneDNN's C++20 headers (internal error on std::vector of its C
# structs), rejects code g++ accepts (examples/alexnet_cifar10.cpp), and takes minutes per
# translation unit that instantiates a Model; with the kernels in a library, consumers stay .cpp.

# nvcc is often not on PATH: look in the usual toolkit places before asking CMake.
if(NOT DEFINED CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
  find_program(CTNN_NVCC nvcc HINTS ${CUDAToolkit_ROOT} ENV CUDA_PATH PATH_SUFFIXES bin PATHS /usr/local/cuda/bin)
  if(CTNN_NVCC)
    set(ENV{CUDACXX} ${CTNN_NVCC})
  endif()
endif()
include(CheckLanguage)
check_language(CUDA)
set(_ctnn_cuda_default OFF)
if(CMAKE_CUDA_COMPILER)
  if(NOT CUDAToolkit_ROOT)
    get_filename_component(_ctnn_nvcc_dir "${CMAKE_CUDA_COMPILER}" DIRECTORY)
    get_filename_component(CUDAToolkit_ROOT "${_ctnn_nvcc_dir}" DIRECTORY)
  endif()
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND)
    include(${CMAKE_CURRENT_LIST_DIR}/ctnnFindCudnn.cmake)
  endif()
  if(CUDAToolkit_FOUND AND TARGET CUDA::cublas AND CTNN_CUDNN_FOUND)
    set(_ctnn_cuda_default ON)
  endif()
endif()
option(CTNN_WITH_CUDA "GPU backend on CUDA/cuDNN/cuBLAS (default: ON when nvcc, cuBLAS and cuDNN are found)"
       ${_ctnn_cuda_default})
if(NOT CTNN_WITH_CUDA)
  return()
endif()
if(NOT CMAKE_CUDA_COMPILER)
  message(FATAL_ERROR "CTNN_WITH_CUDA: no CUDA compiler; pass -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc or turn it OFF")
endif()
find_package(CUDAToolkit REQUIRED)
include(${CMAKE_CURRENT_LIST_DIR}/ctnnFindCudnn.cmake)
if(NOT CTNN_CUDNN_FOUND)
  message(FATAL_ERROR "CTNN_WITH_CUDA: cuDNN not found (cudnn.h, libcudnn) under ${CUDAToolkit_ROOT}; "
                      "set CUDNN_ROOT (or CTNN_CUDNN_INCLUDE_DIR / CTNN_CUDNN_LIBRARY) or turn CTNN_WITH_CUDA OFF")
endif()

# GPU architectures: what the toolkit supports, as real code, plus PTX of the newest for GPUs
# that come later. CUDA 13 starts at sm_75 (Turing): a Maxwell card such as the 940MX (sm_50)
# needs CUDA 12 or older and -DCMAKE_CUDA_ARCHITECTURES=50. For one local GPU, "native" builds fastest.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  set(_ctnn_pick_archs ON)
endif()
enable_language(CUDA)
if(_ctnn_pick_archs)
  if(CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL 13)
    set(CMAKE_CUDA_ARCHITECTURES "75-real;80-real;86-real;89-real;90-real;100-real;120" CACHE STRING "" FORCE)
  elseif(CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
    set(CMAKE_CUDA_ARCHITECTURES "50-real;60-real;70-real;75-real;80-real;86-real;89-real;90" CACHE STRING "" FORCE)
  endif()
endif()
# CMake before 3.26 does not know nvcc's C++20 switch (nvcc has it since 12.0): teach it, so
# CUDA_STANDARD 20 works for the kernels and for .cu consumers in this build.
if(CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL 12 AND NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
  set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
  set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
endif()
message(STATUS "ctnn: CUDA backend with CUDA ${CMAKE_CUDA_COMPILER_VERSION}, cuDNN ${CTNN_CUDNN_LIBRARY}, "
               "architectures ${CMAKE_CUDA_ARCHITECTURES}")

set(_ctnn_cuda_dir ${CMAKE_CURRENT_LIST_DIR})
add_library(ctnn_cuda_kernels STATIC ${_ctnn_cuda_dir}/kernels/elementwise.cu ${_ctnn_cuda_dir}/kernels/maxpool.cu
                                     ${_ctnn_cuda_dir}/kernels/optim.cu ${_ctnn_cuda_dir}/kernels/loss.cu)
set_target_properties(ctnn_cuda_kernels PROPERTIES CUDA_STANDARD 20 CUDA_STANDARD_REQUIRED ON
                                                   POSITION_INDEPENDENT_CODE ON EXPORT_NAME cuda_kernels)
target_include_directories(ctnn_cuda_kernels PRIVATE $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                                     $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>)
# -lineinfo: source lines in compute-sanitizer and Nsight reports, at no run-time cost.
target_compile_options(ctnn_cuda_kernels PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo>)
# Same float operations as the host loops of SGD/Adam (no FMA contraction): identical updates.
set_source_files_properties(${_ctnn_cuda_dir}/kernels/optim.cu PROPERTIES COMPILE_OPTIONS "--fmad=false")
target_link_libraries(ctnn_cuda_kernels PUBLIC CUDA::cudart)

add_library(ctnn_cuda INTERFACE)
add_library(ctnn::cuda ALIAS ctnn_cuda)
set_target_properties(ctnn_cuda PROPERTIES EXPORT_NAME cuda)
target_link_libraries(ctnn_cuda INTERFACE ctnn ctnn_cuda_kernels CUDA::cudart CUDA::cublas ctnn::cudnn)
target_compile_definitions(ctnn_cuda INTERFACE CTNN_WITH_CUDA=1)
install(TARGETS ctnn_cuda ctnn_cuda_kernels EXPORT ctnnCudaTargets)
install(EXPORT ctnnCudaTargets NAMESPACE ctnn:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ctnn)
install(FILES ${_ctnn_cuda_dir}/ctnnFindCudnn.cmake DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ctnn)

if(CTNN_BUILD_TESTS)
  enable_testing()
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/cuda ${PROJECT_BINARY_DIR}/tests/cuda)
  foreach(t test_cuda test_cuda_nvcc)  # CUDA programs use ctnn::cuda (linking it twice is harmless)
    if(TARGET ${t})
      target_link_libraries(${t} PRIVATE ctnn::cuda)
    endif()
  endforeach()
endif()
if(CTNN_BUILD_BENCHMARKS)
  add_subdirectory(${PROJECT_SOURCE_DIR}/benchmarks/cuda ${PROJECT_BINARY_DIR}/benchmarks/cuda)
  if(TARGET gpu_step)
    target_link_libraries(gpu_step PRIVATE ctnn::cuda)
  endif()
endif()
