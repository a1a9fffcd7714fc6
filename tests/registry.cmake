# Registration of the multi-rank, physics and command-line tests (the
# programs are built by tests.cmake).  Rank counts are in the test names.
foreach(np 1 2 3 4 8)
  ising_mpi_test(mpi_halo_np${np} mpi_halo ${np} "mpi")
endforeach()
# Full physics set on 1 and 2 ranks; the quick subset on 4 (oversubscribed)
# ranks.  The sanitizer build runs only the quick subset on 2 ranks.
if(ISING_SANITIZE)
  ising_mpi_test(phys_exact_np2 phys_exact 2 "physics" quick)
else()
  ising_mpi_test(phys_exact_np1 phys_exact 1 "physics")
  ising_mpi_test(phys_exact_np2 phys_exact 2 "physics")
  ising_mpi_test(phys_exact_np4 phys_exact 4 "physics" quick)
endif()

add_test(NAME identity_ranks COMMAND ${CMAKE_SOURCE_DIR}/tests/identity.sh $<TARGET_FILE:ising>
         1:1 2:1 2:2 3:1 4:2 4:1 8:2 8:1)
set_tests_properties(identity_ranks PROPERTIES LABELS "mpi" ENVIRONMENT "${ISING_TEST_ENV_MPI}" PROCESSORS 2)
add_test(NAME cli_errors COMMAND ${CMAKE_SOURCE_DIR}/tests/cli_errors.sh $<TARGET_FILE:ising> ${CMAKE_SOURCE_DIR})
set_tests_properties(cli_errors PROPERTIES LABELS "cli" ENVIRONMENT "${ISING_TEST_ENV_MPI}")

# The output layout from Python (h5py), as a user's script reads it.
find_program(SYSTEM_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(SYSTEM_PYTHON3)
  add_test(NAME analysis_output_layout
           COMMAND ${SYSTEM_PYTHON3} -m pytest -q -p no:cacheprovider ${CMAKE_SOURCE_DIR}/analysis/test_ising_output.py)
  set_tests_properties(analysis_output_layout PROPERTIES LABELS "cli"
    ENVIRONMENT "${ISING_TEST_ENV_MPI};ISING_BIN=$<TARGET_FILE:ising>;PYTHONPATH=${CMAKE_SOURCE_DIR}/analysis;PYTHONDONTWRITEBYTECODE=1")
endif()

# Checkpoint/restart: resume equality on 1->2, 2->1, 2->4 ranks, signals,
# SIGKILL fault injection, damaged checkpoints, refused physics changes.
add_test(NAME checkpoint_resume COMMAND bash ${CMAKE_SOURCE_DIR}/tests/resume.sh $<TARGET_FILE:ising>)
set_tests_properties(checkpoint_resume PROPERTIES LABELS "mpi" ENVIRONMENT "${ISING_TEST_ENV_MPI}" PROCESSORS 2)

foreach(np 1 2 4)
  ising_mpi_test(mpi_varmf_np${np} mpi_varmf ${np} "mpi")
endforeach()
if(SYSTEM_PYTHON3)
  add_test(NAME analysis_freeenergy
           COMMAND ${SYSTEM_PYTHON3} -m pytest -q -p no:cacheprovider ${CMAKE_SOURCE_DIR}/analysis/test_ising_freeenergy.py)
  set_tests_properties(analysis_freeenergy PROPERTIES LABELS "cli"
    ENVIRONMENT "${ISING_TEST_ENV_MPI};ISING_BIN=$<TARGET_FILE:ising>;PYTHONPATH=${CMAKE_SOURCE_DIR}/analysis;PYTHONDONTWRITEBYTECODE=1;MPLBACKEND=Agg")
endif()

# Correlation module (FFTW-MPI) against direct O(N^2) sums, on 1, 2 and 4 ranks.
foreach(np 1 2 4)
  ising_mpi_test(mpi_corr_np${np} mpi_corr ${np} "mpi")
endforeach()
if(SYSTEM_PYTHON3)
  add_test(NAME analysis_fss
           COMMAND ${SYSTEM_PYTHON3} -m pytest -q -p no:cacheprovider ${CMAKE_SOURCE_DIR}/analysis/test_ising_fss.py)
  set_tests_properties(analysis_fss PROPERTIES LABELS "cli" PROCESSORS 2
    ENVIRONMENT "${ISING_TEST_ENV_MPI};ISING_BIN=$<TARGET_FILE:ising>;PYTHONPATH=${CMAKE_SOURCE_DIR}/analysis;PYTHONDONTWRITEBYTECODE=1;MPLBACKEND=Agg")
endif()

# The jobs/ scripts on a real SLURM started on localhost (tests/slurm_jobs.sh
# installs slurmctld, slurmd and munge when missing; exit 77 = skipped where
# SLURM cannot run).  Fixed ports: one at a time.
add_test(NAME slurm_jobs COMMAND bash ${CMAKE_SOURCE_DIR}/tests/slurm_jobs.sh $<TARGET_FILE:ising>)
set_tests_properties(slurm_jobs PROPERTIES ENVIRONMENT "SLURM_TEST_SKIP_CODE=77"
  SKIP_RETURN_CODE 77 TIMEOUT 400 RUN_SERIAL TRUE LABELS "slurm")

# A toy update backend defined in the test, registered at run time and run
# by the unchanged engine (sweeper.h): 1 and 2 ranks.
foreach(np 1 2)
  ising_mpi_test(mpi_sweeper_np${np} mpi_sweeper ${np} "mpi")
endforeach()
