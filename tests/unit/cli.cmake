# Unit tests of the gradeq CLI (cli/), included from tests/unit/CMakeLists.txt:
#   include(${CMAKE_CURRENT_SOURCE_DIR}/cli.cmake)
# Needs CMOCKA (pkg_check_modules above) and the gq_cli library.
foreach(t cli_gradebook cli_args)
  add_executable(test_${t} ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c)
  target_link_libraries(test_${t} PRIVATE gq_cli PkgConfig::CMOCKA)
  target_compile_definitions(test_${t} PRIVATE GQ_TEST_DATA="${CMAKE_CURRENT_LIST_DIR}/data")
  add_test(NAME unit.${t} COMMAND test_${t})
  set_tests_properties(unit.${t} PROPERTIES LABELS unit TIMEOUT 60)
endforeach()
