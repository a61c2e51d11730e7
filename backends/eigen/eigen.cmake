# Eigen backend (backends/eigen), included by the top-level CMakeLists.txt after the ctnn target.
#
# CTNN_WITH_EIGEN (default ON) adds Eigen 3.4 (Debian libeigen3-dev, header-only) to ctnn::ctnn and
# defines CTNN_WITH_EIGEN=1; when Eigen is not found the option is turned off with a message.
# ctnn::cpu is oneDNN when CTNN_WITH_ONEDNN is on, else this backend (include/ctnn/backend.hpp).
#
# Threads: Eigen parallelises its GEMMs with OpenMP, so the backend links OpenMP::OpenMP_CXX
# (CTNN_EIGEN_OPENMP). Not with Clang in a oneDNN build: Clang's -fopenmp brings LLVM's libomp
# beside the libgomp that Debian's libdnnl loads, and ctnn::set_num_threads could reach only one
# of them (include/ctnn/threads.hpp); there the Eigen backend runs on one thread.
# SIMD: Eigen's kernels are compiled, not JIT-generated, so they use only the instruction sets the
# compiler is told about (x86-64's default is SSE2: measured 2-2.5x slower than AVX-512 here,
# benchmarks/README.md "Eigen backend"). CTNN_EIGEN_MARCH (e.g. "native", or "x86-64-v3" for
# AVX2+FMA binaries that run on other machines) adds -march=<value> -ffp-contract=off to every
# C++ consumer of ctnn; -ffp-contract=off keeps the host formulas of include/ctnn/core/ unfused
# (their bit-exact contract). Default: "native" when oneDNN is off (Eigen is then the CPU backend,
# and its speed is its SIMD), empty (the compiler's default) when oneDNN is on. Set it empty for
# portable binaries.
option(CTNN_WITH_EIGEN "Portable CPU backend on Eigen 3.4 (Debian libeigen3-dev)" ON)
if(CTNN_WITH_ONEDNN)
  set(_ctnn_march_default "")
else()
  set(_ctnn_march_default "native")
endif()
set(CTNN_EIGEN_MARCH "${_ctnn_march_default}" CACHE STRING
  "-march value for the Eigen backend's SIMD (e.g. native, x86-64-v3); empty: the compiler's default")
set(CTNN_EIGEN_OPENMP OFF)
if(CTNN_WITH_EIGEN)
  find_package(Eigen3 3.4 QUIET NO_MODULE)
  if(NOT Eigen3_FOUND)
    message(STATUS "ctnn: Eigen 3.4 not found (Debian: libeigen3-dev): the Eigen backend is off")
    set(CTNN_WITH_EIGEN OFF CACHE BOOL "Portable CPU backend on Eigen 3.4 (Debian libeigen3-dev)" FORCE)
  endif()
endif()
if(CTNN_WITH_EIGEN)
  target_link_libraries(ctnn INTERFACE Eigen3::Eigen)
  target_compile_definitions(ctnn INTERFACE CTNN_WITH_EIGEN=1)
  find_package(OpenMP QUIET COMPONENTS CXX)
  if(OpenMP_CXX_FOUND AND (CMAKE_CXX_COMPILER_ID STREQUAL "GNU" OR NOT CTNN_WITH_ONEDNN))
    target_link_libraries(ctnn INTERFACE OpenMP::OpenMP_CXX)
    set(CTNN_EIGEN_OPENMP ON)
  else()
    message(STATUS "ctnn: the Eigen backend runs on one thread (no OpenMP, or Clang with oneDNN's libgomp)")
  endif()
  include(CheckCXXCompilerFlag)
  if(CTNN_EIGEN_MARCH)
    check_cxx_compiler_flag(-march=${CTNN_EIGEN_MARCH} CTNN_EIGEN_MARCH_OK_${CTNN_EIGEN_MARCH})
  endif()
  if(CTNN_EIGEN_MARCH AND NOT CTNN_EIGEN_MARCH_OK_${CTNN_EIGEN_MARCH})
    message(STATUS "ctnn: the compiler rejects -march=${CTNN_EIGEN_MARCH}: the Eigen backend uses its default SIMD")
  elseif(CTNN_EIGEN_MARCH)
    message(STATUS "ctnn: Eigen backend SIMD: -march=${CTNN_EIGEN_MARCH}")
    target_compile_options(ctnn INTERFACE "$<$<COMPILE_LANGUAGE:CXX>:-march=${CTNN_EIGEN_MARCH};-ffp-contract=off>")
  endif()
endif()
