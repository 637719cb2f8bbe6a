# cmake -DBUILD_DIR=... -DWORK_DIR=... [-DSOURCE_DIR=... -DCXX=... -DLIBDIR=...] [-DPYTHON=... -DPYTHON_DIR=...]
#       -P install_and_consume.cmake
# Installs the build into a fresh prefix and runs the installed CLI; with SOURCE_DIR, configures,
# builds and runs the consumer project there (this folder) against that prefix alone, then builds
# and runs its program again with the flags pkg-config gives for the prefix; with PYTHON,
# imports the installed Python module from PREFIX/PYTHON_DIR and pools a batch with it.
function(step what)
  # From the scratch folder: Python puts the working directory first on its path, and ctest's is
  # the build's python/, where the module is built.
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(f include/embflow/runner.h bin/embflow)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "install left out ${f}")
  endif()
endforeach()
step("installed CLI" ${prefix}/bin/embflow info)
if(SOURCE_DIR)
  step("configure the consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -DCMAKE_BUILD_TYPE=Release
       -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX})
  step("build the consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
  step("run the consumer" ${WORK_DIR}/build/consumer)
  message(STATUS "${step_output}")
  # The same program built without CMake, from what pkg-config says.
  step("pkg-config" ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/${LIBDIR}/pkgconfig pkg-config --cflags --libs embflow)
  separate_arguments(flags UNIX_COMMAND "${step_output}")
  step("build the consumer with pkg-config" ${CXX} -std=c++20 -O2 ${SOURCE_DIR}/main.cc ${flags} -o ${WORK_DIR}/consumer_pc)
  step("run that consumer" ${WORK_DIR}/consumer_pc)
  message(STATUS "${step_output}")
endif()
if(PYTHON)
  set(script "import embflow, numpy as np
c = embflow.EmbeddingBagCollection.from_preset('criteo-kaggle', max_rows=1000)
out = c.forward([np.zeros(4, dtype=np.int64)] * 26, [np.arange(5, dtype=np.int64)] * 26)
assert embflow.__file__.startswith('${prefix}'), embflow.__file__
assert out.shape == (4, 26, 16), out.shape
print('installed module pooled', out.shape)")
  step("import the installed module" ${CMAKE_COMMAND} -E env PYTHONPATH=${prefix}/${PYTHON_DIR} ${PYTHON} -c "${script}")
  message(STATUS "${step_output}")
endif()
message(STATUS "all steps passed")
