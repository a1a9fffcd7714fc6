# Registration of the correlation-function tests (the programs are built by
# tests.cmake; included OPTIONAL from there).  Rank counts are in the names.

# Second-moment xi at 2D L=64, T=3.0 against an exact transfer-matrix
# reference, with a power run at a wrong temperature (tests/phys_corr.c).
if(ISING_SANITIZE)
  ising_mpi_test(phys_corr_np2 phys_corr 2 "physics" quick)
else()
  ising_mpi_test(phys_corr_np2 phys_corr 2 "physics")
endif()
