# Install rules: one export set, targets file and deps file per component, a config file that
# honours COMPONENTS / OPTIONAL_COMPONENTS, a version file, and one pkg-config file per
# compiled component.
include(CMakePackageConfigHelpers)

set(PIPELINE_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/pipeline")
file(RELATIVE_PATH PIPELINE_PC_PREFIX_FROM_PC "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")

foreach(component IN LISTS PIPELINE_COMPONENTS)
  set(target pipeline_${component})
  install(TARGETS ${target} EXPORT pipeline-${component}-targets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT pipeline-${component}-targets NAMESPACE pipeline::
    DESTINATION "${PIPELINE_CMAKE_DIR}")
  get_target_property(deps_file ${target} PIPELINE_DEPS_FILE)
  if(deps_file)
    install(FILES "${deps_file}" DESTINATION "${PIPELINE_CMAKE_DIR}"
            RENAME pipeline-${component}-deps.cmake)
  endif()

  get_target_property(type ${target} TYPE)
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    set(PIPELINE_PC_NAME pipeline-${component})
    set(PIPELINE_PC_LIB pipeline_${component})
    # The libraries are static by default, so what a component links privately is a plain
    # Requires: `pkg-config --libs` (without --static) must list it too.
    get_target_property(pc_requires ${target} PIPELINE_PC_REQUIRES)
    if(component STREQUAL "core")
      set(pc_requires fmt ${pc_requires})
    else()
      set(pc_requires pipeline-core ${pc_requires})
    endif()
    list(JOIN pc_requires " " PIPELINE_PC_REQUIRES)
    configure_file("${PROJECT_SOURCE_DIR}/cmake/pipeline.pc.in"
                   "${PROJECT_BINARY_DIR}/pkgconfig/pipeline-${component}.pc" @ONLY)
    install(FILES "${PROJECT_BINARY_DIR}/pkgconfig/pipeline-${component}.pc"
            DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  endif()
endforeach()

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/pipeline-config.cmake.in"
  "${PROJECT_BINARY_DIR}/pipeline-config.cmake" INSTALL_DESTINATION "${PIPELINE_CMAKE_DIR}")
# Before 1.0 a minor version may break the API.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/pipeline-config-version.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/pipeline-config.cmake"
              "${PROJECT_BINARY_DIR}/pipeline-config-version.cmake"
        DESTINATION "${PIPELINE_CMAKE_DIR}")
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/pipeline")
