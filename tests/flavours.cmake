# Kernel flavours (x86-64 only).  The sweep kernel (src/update.c) and the
# Philox fill (src/rng.c) pick their AVX-512, AVX2 or portable path at
# compile time, so the main build tests only the one its -march selects.
# The kernel suites are built once more at x86-64-v3 (AVX2, no AVX-512) and
# at baseline x86-64 (the portable paths), from the few sources they need,
# so that every CI machine tests all three against the reference and
# Random123.  The AVX2 flavour needs a CPU that runs AVX2.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  include(CheckCSourceRuns)
  check_c_source_runs("int main(void) { return !__builtin_cpu_supports(\"avx2\"); }"
                      ISING_CPU_HAS_AVX2)
  set(ISING_FLAVOURS portable)
  if(ISING_CPU_HAS_AVX2)
    list(APPEND ISING_FLAVOURS avx2)
  endif()
  set(ISING_KERNEL_SOURCES error layout halo lattice lattice_io rng model update msc observe config)
  list(TRANSFORM ISING_KERNEL_SOURCES PREPEND ${CMAKE_SOURCE_DIR}/src/)
  list(TRANSFORM ISING_KERNEL_SOURCES APPEND .c)
  foreach(flavour ${ISING_FLAVOURS})
    if(flavour STREQUAL "avx2")
      set(march -march=x86-64-v3)
    else()
      set(march -march=x86-64)
    endif()
    add_library(ising_kernels_${flavour} STATIC ${ISING_KERNEL_SOURCES})
    target_include_directories(ising_kernels_${flavour} PUBLIC ${CMAKE_SOURCE_DIR}/include
      ${RANDOM123_INCLUDE_DIR})
    target_compile_definitions(ising_kernels_${flavour} PUBLIC _POSIX_C_SOURCE=200809L)
    target_compile_options(ising_kernels_${flavour} PUBLIC ${ISING_WARN} ${march} ${ISING_SAN})
    target_link_options(ising_kernels_${flavour} PUBLIC ${ISING_SAN})
    target_link_libraries(ising_kernels_${flavour} PUBLIC MPI::MPI_C PkgConfig::INIH ${MATH_LIBRARY})
    foreach(t test_update test_rng test_msc)
      add_executable(${t}_${flavour} ${CMAKE_SOURCE_DIR}/tests/${t}.c ${CMAKE_SOURCE_DIR}/tests/testutil.c)
      target_link_libraries(${t}_${flavour} PRIVATE ising_kernels_${flavour} PkgConfig::CHECK)
      add_test(NAME unit_${t}_${flavour} COMMAND ${t}_${flavour})
      if(t STREQUAL "test_update" OR t STREQUAL "test_msc")
        set(env "${ISING_TEST_ENV_MPI}")
      else()
        set(env "${ISING_TEST_ENV}")
      endif()
      set_tests_properties(unit_${t}_${flavour} PROPERTIES LABELS unit ENVIRONMENT "${env}"
        WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
    endforeach()
  endforeach()
endif()
