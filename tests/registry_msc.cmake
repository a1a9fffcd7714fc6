# Multi-spin-coding kernel (msc.h): the exact comparisons and the statistical
# equivalence with the byte kernel (phys_exact "msc"), full on 1 rank and the
# quick subset on 2; the sanitizer build runs the quick subset.  The unit
# suite (tests/test_msc.c) is registered by tests.cmake, the rank-count
# identity by identity_ranks (decks e and f).
if(ISING_SANITIZE)
  ising_mpi_test(phys_exact_msc_np2 phys_exact 2 "physics" quick msc)
else()
  ising_mpi_test(phys_exact_msc_np1 phys_exact 1 "physics" msc)
  ising_mpi_test(phys_exact_msc_np2 phys_exact 2 "physics" quick msc)
endif()
# Checkpoint/restart with the MSC kernel (1 -> 3 ranks against 2 ranks).
add_test(NAME checkpoint_resume_msc COMMAND sh ${CMAKE_SOURCE_DIR}/tests/resume_msc.sh $<TARGET_FILE:ising>)
set_tests_properties(checkpoint_resume_msc PROPERTIES LABELS "mpi" ENVIRONMENT "${ISING_TEST_ENV_MPI}" PROCESSORS 2)
