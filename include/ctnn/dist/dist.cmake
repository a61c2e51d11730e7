# Data parallelism (include/ctnn/dist), included by the top-level CMakeLists.txt after the CUDA
# backend. Each engine is optional; ctnn::ctnn never needs them (dist::Local, the group of one,
# is plain C++):
#   ctnn::mpi    ctnn::ctnn + MPI::MPI_CXX (find_package(MPI COMPONENTS CXX); Debian:
#                libopenmpi-dev): <ctnn/dist/mpi.hpp>, defines CTNN_WITH_MPI
#   ctnn::nccl   ctnn::mpi + ctnn::cuda + NCCL from the CUDA toolkit (nccl.h, libnccl):
#                <ctnn/dist/nccl.hpp>, defines CTNN_WITH_NCCL. Build tree only (not installed).
find_package(MPI COMPONENTS CXX QUIET)
if(NOT MPI_CXX_FOUND)
  message(STATUS "ctnn: MPI not found: no ctnn::mpi (Debian: apt-get install libopenmpi-dev openmpi-bin)")
  return()
endif()
add_library(ctnn_mpi INTERFACE)
add_library(ctnn::mpi ALIAS ctnn_mpi)
set_target_properties(ctnn_mpi PROPERTIES EXPORT_NAME mpi)
target_link_libraries(ctnn_mpi INTERFACE ctnn MPI::MPI_CXX)
target_compile_definitions(ctnn_mpi INTERFACE CTNN_WITH_MPI=1)
install(TARGETS ctnn_mpi EXPORT ctnnMpiTargets)
install(EXPORT ctnnMpiTargets NAMESPACE ctnn:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ctnn)
message(STATUS "ctnn: ctnn::mpi with MPI ${MPI_CXX_VERSION} (${MPI_CXX_LIBRARIES})")

if(NOT TARGET ctnn::cuda)
  return()
endif()
find_path(CTNN_NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} ENV NCCL_ROOT PATH_SUFFIXES include)
find_library(CTNN_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} ENV NCCL_ROOT PATH_SUFFIXES lib lib64)
if(NOT CTNN_NCCL_INCLUDE_DIR OR NOT CTNN_NCCL_LIBRARY)
  message(STATUS "ctnn: NCCL not found (nccl.h, libnccl; set NCCL_ROOT): no ctnn::nccl")
  return()
endif()
add_library(ctnn_nccl INTERFACE)
add_library(ctnn::nccl ALIAS ctnn_nccl)
target_include_directories(ctnn_nccl INTERFACE ${CTNN_NCCL_INCLUDE_DIR})
target_link_libraries(ctnn_nccl INTERFACE ctnn_mpi ctnn::cuda ${CTNN_NCCL_LIBRARY})
target_compile_definitions(ctnn_nccl INTERFACE CTNN_WITH_NCCL=1)
message(STATUS "ctnn: ctnn::nccl with ${CTNN_NCCL_LIBRARY}")
