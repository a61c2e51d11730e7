# cuDNN lookup shared by the build (backends/cuda/cuda.cmake) and the installed package
# (ctnnConfig.cmake, component "cuda"): defines the imported target ctnn::cudnn when cudnn.h and
# libcudnn are found, and sets CTNN_CUDNN_FOUND. Run after find_package(CUDAToolkit).
# Searched: CUDNN_ROOT / $ENV{CUDNN_ROOT} / $ENV{CUDNN_PATH}, the CUDA toolkit's folders, then the
# system's (Debian's nvidia-cudnn and NVIDIA's own packages install there). Nothing is recorded
# as an absolute path in installed files: a consumer's machine runs this lookup itself.
if(TARGET ctnn::cudnn)
  set(CTNN_CUDNN_FOUND TRUE)
  return()
endif()
find_path(CTNN_CUDNN_INCLUDE_DIR cudnn.h
  HINTS ${CUDNN_ROOT} $ENV{CUDNN_ROOT} $ENV{CUDNN_PATH} ${CUDAToolkit_INCLUDE_DIRS} ${CUDAToolkit_LIBRARY_ROOT}
  PATH_SUFFIXES include)
find_library(CTNN_CUDNN_LIBRARY cudnn
  HINTS ${CUDNN_ROOT} $ENV{CUDNN_ROOT} $ENV{CUDNN_PATH} ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}
  PATH_SUFFIXES lib64 lib lib/x64)
if(CTNN_CUDNN_INCLUDE_DIR AND CTNN_CUDNN_LIBRARY)
  add_library(ctnn::cudnn UNKNOWN IMPORTED)
  set_target_properties(ctnn::cudnn PROPERTIES IMPORTED_LOCATION "${CTNN_CUDNN_LIBRARY}"
                                               INTERFACE_INCLUDE_DIRECTORIES "${CTNN_CUDNN_INCLUDE_DIR}")
  set(CTNN_CUDNN_FOUND TRUE)
else()
  set(CTNN_CUDNN_FOUND FALSE)
endif()
