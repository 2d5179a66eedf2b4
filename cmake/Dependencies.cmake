# Libraries that ship without CMake config files in Debian 12 (SOCI, hiredis, libsodium):
# imported by hand.
find_path(SOCI_INCLUDE_DIR soci/soci.h REQUIRED)
find_library(SOCI_CORE_LIB soci_core REQUIRED)
find_library(SOCI_SQLITE3_LIB soci_sqlite3 REQUIRED)
find_library(SOCI_POSTGRESQL_LIB soci_postgresql REQUIRED)
find_library(SQLITE3_LIB sqlite3 REQUIRED)
find_path(HIREDIS_INCLUDE_DIR hiredis/hiredis.h REQUIRED)
find_library(HIREDIS_LIB hiredis REQUIRED)
find_path(SODIUM_INCLUDE_DIR sodium.h REQUIRED)
find_library(SODIUM_LIB sodium REQUIRED)

add_library(soci_core INTERFACE IMPORTED)
target_include_directories(soci_core INTERFACE ${SOCI_INCLUDE_DIR} ${PostgreSQL_INCLUDE_DIRS})
target_link_libraries(soci_core INTERFACE ${SOCI_SQLITE3_LIB} ${SOCI_POSTGRESQL_LIB} ${SOCI_CORE_LIB}
                      ${SQLITE3_LIB} PostgreSQL::PostgreSQL Boost::headers ${CMAKE_DL_LIBS})

add_library(hiredis INTERFACE IMPORTED)
target_include_directories(hiredis INTERFACE ${HIREDIS_INCLUDE_DIR})
target_link_libraries(hiredis INTERFACE ${HIREDIS_LIB})

add_library(sodium INTERFACE IMPORTED)
target_include_directories(sodium INTERFACE ${SODIUM_INCLUDE_DIR})
target_link_libraries(sodium INTERFACE ${SODIUM_LIB})

# crowd_embed_sql(TARGET SERVICE): compiles schemas/sql/SERVICE/*.sql into the binary, so a service
# carries its own migrations and needs no path to the source tree at run time.
# crowd_embed_sql(TARGET kit FUNCTION kit_migrations PREFIX "kit/") embeds the kit's own tables
# (schemas/sql/kit/) the same way under another function name.
function(crowd_embed_sql target service)
  cmake_parse_arguments(arg "" "FUNCTION;PREFIX" "" ${ARGN})
  file(GLOB sql_files CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/schemas/sql/${service}/*.sql)
  list(SORT sql_files)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${service}_migrations.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSQL_FILES="${sql_files}" -DFUNCTION=${arg_FUNCTION}
            -DPREFIX=${arg_PREFIX} -P ${PROJECT_SOURCE_DIR}/cmake/EmbedSql.cmake
    DEPENDS ${sql_files} ${PROJECT_SOURCE_DIR}/cmake/EmbedSql.cmake
    COMMENT "Embedding migrations of ${service}")
  target_sources(${target} PRIVATE ${out})
endfunction()
