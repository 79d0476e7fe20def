# Unit tests of grader-node/ modules that need no sandbox, included from
# tests/unit/CMakeLists.txt. They link gq_node (everything of the node but main()).
foreach(t joblimits sandbox_argv cgroup)
  add_executable(test_${t} ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c)
  target_link_libraries(test_${t} PRIVATE gq_node PkgConfig::CMOCKA)
  add_test(NAME unit.${t} COMMAND test_${t})
  set_tests_properties(unit.${t} PROPERTIES LABELS unit TIMEOUT 60)
endforeach()

# The Lua scripts that change a submission's status against a real redis-server (started
# by the test's fixture on a free loopback port): the node's (store.c) and the
# dispatcher's (api.h). Without redis-server: failed in CI, skipped elsewhere.
add_executable(test_store_lua ${CMAKE_CURRENT_LIST_DIR}/test_store_lua.c)
target_link_libraries(test_store_lua PRIVATE gq_node gq_dispatcher PkgConfig::CMOCKA)
add_test(NAME unit.store_lua COMMAND test_store_lua)
set_tests_properties(unit.store_lua PROPERTIES LABELS "unit;redis" TIMEOUT 120
                     SKIP_RETURN_CODE 77)
