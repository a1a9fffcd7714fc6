# Multi-spin-coding kernels (msc.h, msc_async.h): the exact comparisons and
# the statistical equivalence with the byte kernel (phys_exact "msc" and
# "msc-async"), full on 1 rank, the quick msc subset on 2; the sanitizer
# build runs the quick subsets.  The unit suites (tests/test_msc.c,
# tests/test_msc_async.c) are registered by tests.cmake, the rank-count
# identity by identity_ranks (decks e, f: msc; g: msc-async).
if(ISING_SANITIZE)
  ising_mpi_test(phys_exact_msc_np2 phys_exact 2 "physics" quick msc)
  ising_mpi_test(phys_exact_async_np1 phys_exact 1 "physics" quick msc-async)
else()
  ising_mpi_test(phys_exact_msc_np1 phys_exact 1 "physics" msc)
  ising_mpi_test(phys_exact_msc_np2 phys_exact 2 "physics" quick msc)
  ising_mpi_test(phys_exact_async_np1 phys_exact 1 "physics" msc-async)
endif()
# Checkpoint/restart with the MSC kernels (1 -> 3 ranks against 2 ranks).
foreach(k msc msc-async)
  string(REPLACE "msc-async" "async" name ${k})
  add_test(NAME checkpoint_resume_${name} COMMAND sh ${CMAKE_SOURCE_DIR}/tests/resume_msc.sh $<TARGET_FILE:ising> ${k})
  set_tests_properties(checkpoint_resume_${name} PROPERTIES LABELS "mpi" ENVIRONMENT "${ISING_TEST_ENV_MPI}" PROCESSORS 2)
endforeach()
