# Unit tests of dispatcher/ modules, included from tests/unit/CMakeLists.txt. They link
# gq_dispatcher (everything of the dispatcher but main()).
foreach(t auth http_parse disp_config)
  add_executable(test_${t} ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c)
  target_link_libraries(test_${t} PRIVATE gq_dispatcher PkgConfig::CMOCKA)
  add_test(NAME unit.${t} COMMAND test_${t})
  set_tests_properties(unit.${t} PROPERTIES LABELS unit TIMEOUT 120)
endforeach()
