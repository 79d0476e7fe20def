# Unit tests of grader-node/ modules that need no sandbox, included from
# tests/unit/CMakeLists.txt. They link gq_node (everything of the node but main()).
foreach(t joblimits sandbox_argv)
  add_executable(test_${t} ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c)
  target_link_libraries(test_${t} PRIVATE gq_node PkgConfig::CMOCKA)
  add_test(NAME unit.${t} COMMAND test_${t})
  set_tests_properties(unit.${t} PROPERTIES LABELS unit TIMEOUT 60)
endforeach()
