# FindDuckDB
# ----------
# Finds DuckDB's C API: the header duckdb.h and the shared library libduckdb.so.
#
# Search order:
#   1. DUCKDB_ROOT (CMake variable, else environment variable): <root>/include, <root>/lib, <root>
#   2. ${CMAKE_SOURCE_DIR}/third_party/duckdb, filled by scripts/setup.sh (then the
#      third_party/duckdb beside this cmake/ folder, for use as a subproject)
#   3. the system's default paths
#
# Defines:
#   DuckDB_FOUND, DuckDB_INCLUDE_DIR, DuckDB_LIBRARY, DuckDB_VERSION (when the header tells it)
#   DuckDB::DuckDB  imported SHARED library target
#
# Executables that link DuckDB::DuckDB get the library's directory in their build RPATH (CMake's
# default for an imported library given by full path outside the system directories), so they
# run from the build tree without LD_LIBRARY_PATH.

set(_duckdb_hints)
if(DEFINED DUCKDB_ROOT AND NOT "${DUCKDB_ROOT}" STREQUAL "")
  list(APPEND _duckdb_hints "${DUCKDB_ROOT}")
elseif(DEFINED ENV{DUCKDB_ROOT} AND NOT "$ENV{DUCKDB_ROOT}" STREQUAL "")
  list(APPEND _duckdb_hints "$ENV{DUCKDB_ROOT}")
endif()
list(APPEND _duckdb_hints "${CMAKE_SOURCE_DIR}/third_party/duckdb")
# The same place when this project is not the top-level one (e.g. added with add_subdirectory).
get_filename_component(_duckdb_ours "${CMAKE_CURRENT_LIST_DIR}/../third_party/duckdb" ABSOLUTE)
list(APPEND _duckdb_hints "${_duckdb_ours}")

# Look in the hints first, on their own, then fall back to the default search paths.
find_path(DuckDB_INCLUDE_DIR duckdb.h
  HINTS ${_duckdb_hints} PATH_SUFFIXES include NO_DEFAULT_PATH)
find_path(DuckDB_INCLUDE_DIR duckdb.h)
find_library(DuckDB_LIBRARY NAMES duckdb
  HINTS ${_duckdb_hints} PATH_SUFFIXES lib lib64 NO_DEFAULT_PATH)
find_library(DuckDB_LIBRARY NAMES duckdb)
mark_as_advanced(DuckDB_INCLUDE_DIR DuckDB_LIBRARY)

# duckdb.h carries no version macro; the version is only known at run time
# (duckdb_library_version()). Report the one recorded by scripts/setup.sh when it is ours.
unset(DuckDB_VERSION)
if(DuckDB_INCLUDE_DIR AND EXISTS "${DuckDB_INCLUDE_DIR}/../.stamp")
  file(STRINGS "${DuckDB_INCLUDE_DIR}/../.stamp" _duckdb_stamp REGEX "duckdb-[0-9.]+\\.tgz$")
  if(_duckdb_stamp MATCHES "duckdb-([0-9.]+)\\.tgz")
    set(DuckDB_VERSION "${CMAKE_MATCH_1}")
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(DuckDB
  REQUIRED_VARS DuckDB_LIBRARY DuckDB_INCLUDE_DIR
  VERSION_VAR DuckDB_VERSION
  REASON_FAILURE_MESSAGE
    "Run scripts/setup.sh (or `make setup`) to fetch DuckDB into third_party/duckdb, or set DUCKDB_ROOT to a directory holding include/duckdb.h and lib/libduckdb.so.")

if(DuckDB_FOUND AND NOT TARGET DuckDB::DuckDB)
  add_library(DuckDB::DuckDB SHARED IMPORTED)
  set_target_properties(DuckDB::DuckDB PROPERTIES
    IMPORTED_LOCATION "${DuckDB_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${DuckDB_INCLUDE_DIR}")
endif()

unset(_duckdb_hints)
unset(_duckdb_ours)
unset(_duckdb_stamp)
