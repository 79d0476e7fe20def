# Unit tests of the gradeq CLI (cli/) and the example course, included from
# tests/unit/CMakeLists.txt:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/cli.cmake)
# Needs CMOCKA (pkg_check_modules above) and the gq_cli library.
foreach(t cli_gradebook cli_args cli_status)
  add_executable(test_${t} ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c)
  target_link_libraries(test_${t} PRIVATE gq_cli PkgConfig::CMOCKA)
  target_compile_definitions(test_${t} PRIVATE GQ_TEST_DATA="${CMAKE_CURRENT_LIST_DIR}/data")
  add_test(NAME unit.${t} COMMAND test_${t})
  set_tests_properties(unit.${t} PROPERTIES LABELS unit TIMEOUT 60)
endforeach()

# The example course, its submission generator and the expected-score oracle (pytest in
# the grading venv; ~30 s, so labelled "examples" rather than unit: it runs once, not
# again in the sanitizer build).
set(_gq_prefix "$ENV{GRADEQ_PREFIX}")
if(NOT _gq_prefix)
  set(_gq_prefix /opt/gradeq)
endif()
find_program(GQ_VENV_PYTHON python PATHS ${_gq_prefix}/venv/bin NO_DEFAULT_PATH)
if(GQ_VENV_PYTHON)
  add_test(NAME examples.pytest
           COMMAND ${GQ_VENV_PYTHON} -m pytest -q -p no:cacheprovider
                   ${CMAKE_CURRENT_LIST_DIR}/../../examples/tests)
  set_tests_properties(examples.pytest PROPERTIES LABELS examples TIMEOUT 300)
else()
  message(STATUS "grading venv not found under ${_gq_prefix}: examples.pytest not registered")
endif()
