# The library as another project sees it: installs the build tree's "library" component into a
# fresh temporary prefix, configures and builds examples/cpp against it with find_package(nemori)
# (nothing of the source or build tree on its include or library path), runs the example on a
# new DuckDB file and checks what it prints. Run by CTest (tests/CMakeLists.txt) with
#   -DBUILD_DIR=... -DSOURCE_DIR=... -DGENERATOR=... -DCXX=... -DSANITIZE=ON|OFF
foreach(var BUILD_DIR SOURCE_DIR GENERATOR CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_example_test.cmake: -D${var}=... is required")
  endif()
endforeach()

set(tmp "/tmp")
if(DEFINED ENV{TMPDIR} AND IS_DIRECTORY "$ENV{TMPDIR}")
  set(tmp "$ENV{TMPDIR}")
endif()
string(RANDOM LENGTH 10 suffix)
set(work "${tmp}/nemori-install-test-${suffix}")
file(REMOVE_RECURSE "${work}")
file(MAKE_DIRECTORY "${work}")

# run(STEP COMMAND...): runs a command, fails the test with its output if it fails.
function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${step} failed (${rc}), work directory ${work} kept:\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

run("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${work}/prefix"
    --component library)
foreach(file include/nemori/memory/memory_system.h lib/cmake/nemori/nemoriConfig.cmake
             lib/cmake/nemori/nemoriConfigVersion.cmake lib/cmake/nemori/nemoriTargets.cmake
             lib/libnemori_core.a lib/libnemori_memory.a)
  if(NOT EXISTS "${work}/prefix/${file}")
    message(FATAL_ERROR "cmake --install did not install ${file} (work directory ${work} kept)")
  endif()
endforeach()

set(flags)
if(SANITIZE)  # the installed libraries are instrumented: so must the program be
  set(flags "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined"
            "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined")
endif()
run("configuring examples/cpp" "${CMAKE_COMMAND}" -G "${GENERATOR}" -S "${SOURCE_DIR}/examples/cpp"
    -B "${work}/build" "-DCMAKE_PREFIX_PATH=${work}/prefix" "-DCMAKE_CXX_COMPILER=${CXX}"
    -DCMAKE_BUILD_TYPE=Release ${flags})
run("building examples/cpp" "${CMAKE_COMMAND}" --build "${work}/build")
run("running nemori_example" "${work}/build/nemori_example" "${work}/example.duckdb")

foreach(expected "episodes built: 1" "hit: " "Biscuit")
  string(FIND "${run_output}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "nemori_example printed no \"${expected}\" (work directory ${work} "
                        "kept):\n${run_output}")
  endif()
endforeach()
message(STATUS "nemori_example, built against the installed package, printed:\n${run_output}")
file(REMOVE_RECURSE "${work}")
