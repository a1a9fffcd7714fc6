# Test registration (included from the top CMakeLists.txt).
#
# Labels: unit (Check suites, one per module), mpi (several rank counts),
# physics (statistical comparison with exact results), fuzz (deck parser),
# cli (the ising executable end to end).  The sanitizer build runs all labels
# except `long`.
set(ISING_TEST_ENV
  "OMPI_ALLOW_RUN_AS_ROOT=1" "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
  "OMPI_MCA_rmaps_base_oversubscribe=1" "CK_FORK=no" "CK_DEFAULT_TIMEOUT=600"
  "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1"
  "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0"
  "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
  "ISING_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
# Programs that initialise MPI: LeakSanitizer cannot attribute the allocations
# Open MPI, PMIx and hwloc make in plugins they dlopen ("<unknown module>"), so
# suppressions cannot target them; those programs run with AddressSanitizer
# and UBSan but without leak detection.  The MPI-free unit suites keep it.
set(ISING_TEST_ENV_MPI ${ISING_TEST_ENV})
list(TRANSFORM ISING_TEST_ENV_MPI REPLACE "^ASAN_OPTIONS=detect_leaks=1" "ASAN_OPTIONS=detect_leaks=0")

# Every tests/test_<module>.c is a Check suite for that module.
file(GLOB ISING_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/test_*.c)
foreach(src ${ISING_UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src} ${CMAKE_SOURCE_DIR}/tests/testutil.c)
  target_link_libraries(${name} PRIVATE ising_core PkgConfig::CHECK)
  add_test(NAME unit_${name} COMMAND ${name})
  file(READ ${src} body)
  if(body MATCHES "MPI_Init")
    set(env "${ISING_TEST_ENV_MPI}")
  else()
    set(env "${ISING_TEST_ENV}")
  endif()
  set_tests_properties(unit_${name} PROPERTIES LABELS unit ENVIRONMENT "${env}"
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
endforeach()

# ising_mpi_test(NAME EXE NPROCS LABELS ARGS...): run EXE under mpiexec.
function(ising_mpi_test name exe np labels)
  add_test(NAME ${name} COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np}
           --oversubscribe $<TARGET_FILE:${exe}> ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" PROCESSORS ${np}
    ENVIRONMENT "${ISING_TEST_ENV_MPI}" WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
endfunction()

# Programs that run under several rank counts (tests/mpi_*.c, tests/phys_*.c).
file(GLOB ISING_MPI_PROGS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/mpi_*.c
     ${CMAKE_SOURCE_DIR}/tests/phys_*.c)
foreach(src ${ISING_MPI_PROGS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src} ${CMAKE_SOURCE_DIR}/tests/testutil.c)
  target_link_libraries(${name} PRIVATE ising_core PkgConfig::CHECK)
endforeach()
include(${CMAKE_SOURCE_DIR}/tests/registry.cmake OPTIONAL)
include(${CMAKE_SOURCE_DIR}/tests/registry_corr.cmake OPTIONAL)
include(${CMAKE_SOURCE_DIR}/tests/registry_msc.cmake OPTIONAL)

# The deck-parser fuzz target: libFuzzer needs clang; the rest of the build
# uses the MPI compiler wrapper, so it is built by a custom command from the
# MPI-free sources it needs.
find_program(CLANG_EXECUTABLE NAMES clang clang-14)
if(ISING_FUZZ AND CLANG_EXECUTABLE AND EXISTS ${CMAKE_SOURCE_DIR}/tests/fuzz_deck.c)
  set(fuzz_srcs ${CMAKE_SOURCE_DIR}/tests/fuzz_deck.c ${CMAKE_SOURCE_DIR}/src/config.c
                ${CMAKE_SOURCE_DIR}/src/error.c)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/fuzz_deck
    COMMAND ${CLANG_EXECUTABLE} -std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L
            -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
            -I${CMAKE_SOURCE_DIR}/include ${fuzz_srcs} ${INIH_LINK_LIBRARIES} -lm
            -o ${CMAKE_BINARY_DIR}/fuzz_deck
    DEPENDS ${fuzz_srcs} ${CMAKE_SOURCE_DIR}/include/ising/config.h
    COMMENT "Building the libFuzzer deck-parser target with clang")
  add_custom_target(fuzz_deck_target ALL DEPENDS ${CMAKE_BINARY_DIR}/fuzz_deck)
  add_test(NAME fuzz_deck COMMAND ${CMAKE_SOURCE_DIR}/tests/run_fuzz.sh
           ${CMAKE_BINARY_DIR}/fuzz_deck 30 ${CMAKE_SOURCE_DIR}/inputs ${CMAKE_SOURCE_DIR}/tests/decks)
  set_tests_properties(fuzz_deck PROPERTIES LABELS fuzz ENVIRONMENT "${ISING_TEST_ENV}")
elseif(ISING_FUZZ)
  message(WARNING "clang not found: the deck-parser fuzz test is not built (Debian: clang)")
endif()
include(${CMAKE_SOURCE_DIR}/tests/flavours.cmake)
