# Install rules: `cmake --install build [--prefix P]` installs the public headers, every layer's
# static library (each nemori_layer() registers itself in the global property NEMORI_LAYERS),
# the `nemori` command, and a CMake package so that another project can
#   find_package(nemori)  and  target_link_libraries(app PRIVATE nemori::nemori).
# Components: "library" (headers, libraries, package files, DuckDB when it is ours) and "cli".
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

get_property(nemori_layers GLOBAL PROPERTY NEMORI_LAYERS)
foreach(layer IN LISTS nemori_layers)
  string(REGEX REPLACE "^nemori_" "" short_name "${layer}")
  set_target_properties(${layer} PROPERTIES EXPORT_NAME ${short_name})  # nemori::core, ...
endforeach()

# nemori::nemori: every layer at once (the target name `nemori` is the command's).
add_library(nemori_library INTERFACE)
set_target_properties(nemori_library PROPERTIES EXPORT_NAME nemori)
target_link_libraries(nemori_library INTERFACE ${nemori_layers})
add_library(nemori::nemori ALIAS nemori_library)

install(TARGETS ${nemori_layers} nemori_library EXPORT nemoriTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT library)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/nemori"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT library)

set(nemori_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/nemori")
install(EXPORT nemoriTargets NAMESPACE nemori:: DESTINATION ${nemori_cmake_dir}
        COMPONENT library)

# DuckDB fetched into third_party/ by scripts/setup.sh is installed with nemori (header and
# shared library), so the installed package works without this source tree.
set(NEMORI_DUCKDB_IN_PREFIX OFF)
if(NEMORI_WITH_DUCKDB AND DuckDB_LIBRARY MATCHES "^${PROJECT_SOURCE_DIR}/third_party/")
  set(NEMORI_DUCKDB_IN_PREFIX ON)
  install(FILES "${DuckDB_LIBRARY}" DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT library)
  install(FILES "${DuckDB_INCLUDE_DIR}/duckdb.h" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          COMPONENT library)
endif()

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/nemoriConfig.cmake.in"
                              "${PROJECT_BINARY_DIR}/nemoriConfig.cmake"
                              INSTALL_DESTINATION ${nemori_cmake_dir})
# 0.x: a minor version may change the API.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/nemoriConfigVersion.cmake"
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/nemoriConfig.cmake"
              "${PROJECT_BINARY_DIR}/nemoriConfigVersion.cmake"
              "${CMAKE_CURRENT_LIST_DIR}/FindDuckDB.cmake"
        DESTINATION ${nemori_cmake_dir} COMPONENT library)

# The command, finding the installed libduckdb.so beside it.
set_target_properties(nemori PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}"
                                        INSTALL_RPATH_USE_LINK_PATH ON)
install(TARGETS nemori RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
