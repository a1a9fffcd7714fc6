# The test suite: every test program and every ctest registration, included
# once from the top CMakeLists.txt.
#
# Labels: unit (Check suites, one per module, and the kernel suites of the
# other ISA levels), mpi (several rank counts; names end in _np<ranks>),
# physics (statistical comparison with exact results), cli (the ising
# executable and the Python analysis end to end), fuzz (deck parser), slurm
# (the jobs/ scripts on a localhost SLURM).  The sanitizer build
# (ISING_SANITIZE) registers the quick subsets of the physics tests; jobs/
# local.sh runs it without the slurm label.
#
# PROCESSORS is the number of cores a test keeps busy (its MPI ranks for
# the compute-bound programs; 2 for the scripts whose jobs mostly run 2 or
# more ranks; 1 for the scripts that mostly wait: process start-up, signals,
# SLURM), so that `ctest -j <cores>` neither
# oversubscribes the machine (ranks that wait for a descheduled partner spin)
# nor leaves it idle; COST (end of this file) starts the long tests first.
# jobs/local.sh goes one step further with the resource spec written at the
# end of this file: each test takes its PROCESSORS in "cores" (at most the
# machine's), except the two that mostly sleep (cli_errors, slurm_jobs), so
# those run beside a full machine.

# ---------------------------------------------------------------- environment
# odls_base_sigkill_timeout=0: when a rank exits non-zero (every refused deck,
# full disk, refused resume), mpiexec kills what is left at once instead of
# holding the job 1-2 s more (its default grace of 1 s, polled), which costs
# the suite about 2 minutes of held cores; a rank that is still alive gets
# SIGKILL instead of SIGTERM then, as after a scheduler's grace period.
# pml=ob1, btl=self,vader: the tests run on one node, where Open MPI's
# default transport (UCX) spends about 0.2 s of every start probing
# devices; with shared memory only, a process started without mpiexec
# starts in 0.12 s instead of 0.33 and mpiexec -n 2 in 0.13 s instead of
# 0.34.  The suite starts some hundreds of processes; results do not depend
# on the transport.  (ess_singleton_isolated would save another 0.1 s, but
# isolated singletons share one session directory, and checkpoint_fuzz's 16
# concurrent resumes then remove each other's MPI-IO files.)
# hwloc_base_binding_policy=core:overload-allowed: mpiexec binds every rank
# to a core, also when there are more ranks than cores (its default binds
# up to 2 ranks and leaves more unbound).  The tests of 3, 4 and 8 ranks on
# 2 cores then share each core between fixed ranks instead of migrating
# them; on a hypervisor where context switches are dear this took
# phys_exact quick on 4 ranks from 34.6 s to 24.5 s (2 cores).
set(ISING_TEST_ENV
  "OMPI_ALLOW_RUN_AS_ROOT=1" "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
  "OMPI_MCA_rmaps_base_oversubscribe=1" "OMPI_MCA_odls_base_sigkill_timeout=0"
  "OMPI_MCA_pml=ob1" "OMPI_MCA_btl=self,vader"
  "OMPI_MCA_hwloc_base_binding_policy=core:overload-allowed"
  "CK_FORK=no" "CK_DEFAULT_TIMEOUT=600"
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

# ---------------------------------------------------------------- test programs
# testutil.c once for all test programs.
add_library(ising_testutil OBJECT ${CMAKE_SOURCE_DIR}/tests/testutil.c)
target_link_libraries(ising_testutil PUBLIC ising_core PkgConfig::CHECK)

# Every tests/test_<module>.c is a Check suite for that module.
file(GLOB ISING_UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/test_*.c)
foreach(src ${ISING_UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src} $<TARGET_OBJECTS:ising_testutil>)
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

# Programs that run under several rank counts (tests/mpi_*.c, tests/phys_*.c).
file(GLOB ISING_MPI_PROGS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/mpi_*.c
     ${CMAKE_SOURCE_DIR}/tests/phys_*.c)
foreach(src ${ISING_MPI_PROGS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src} $<TARGET_OBJECTS:ising_testutil>)
  target_link_libraries(${name} PRIVATE ising_core PkgConfig::CHECK)
endforeach()

# ising_mpi_test(NAME EXE NPROCS LABELS ARGS...): run EXE under mpiexec.
function(ising_mpi_test name exe np labels)
  add_test(NAME ${name} COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np}
           --oversubscribe $<TARGET_FILE:${exe}> ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" PROCESSORS ${np}
    ENVIRONMENT "${ISING_TEST_ENV_MPI}" WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
endfunction()

# ising_script_test(NAME LABELS PROCESSORS COMMAND...): a test script that
# runs the ising executable (MPI environment).
function(ising_script_test name labels procs)
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" ENVIRONMENT "${ISING_TEST_ENV_MPI}")
  if(procs GREATER 1)
    set_tests_properties(${name} PROPERTIES PROCESSORS ${procs})
  endif()
endfunction()

# ---------------------------------------------------------------- mpi
# Halo exchange, the variational mean field, and the correlation module
# (FFTW-MPI against direct O(N^2) sums) on several rank counts.
foreach(np 1 2 3 4 8)
  ising_mpi_test(mpi_halo_np${np} mpi_halo ${np} "mpi")
endforeach()
# A toy update backend defined in the test, registered at run time and run
# by the unchanged engine (sweeper.h): 1 and 2 ranks.
foreach(np 1 2)
  ising_mpi_test(mpi_sweeper_np${np} mpi_sweeper ${np} "mpi")
endforeach()
# Swendsen-Wang (sweep_sw.c) against a serial oracle on every layout of
# the rank count (tests/mpi_cluster.c "labels"), and detailed balance in one
# step on the 4x4 torus with its power checks ("balance": 1, 2 and 4 ranks;
# the sanitizer build: 2).
if(ISING_SANITIZE)
  set(cluster_full 2)
  set(cluster_labels 1 3 4 6 8)
else()
  set(cluster_full 1 2 4)
  set(cluster_labels 3 6 8)
endif()
foreach(np ${cluster_full})
  ising_mpi_test(mpi_cluster_np${np} mpi_cluster ${np} "mpi")
endforeach()
foreach(np ${cluster_labels})
  ising_mpi_test(mpi_cluster_np${np} mpi_cluster ${np} "mpi" labels)
endforeach()
foreach(np 1 2 4)
  ising_mpi_test(mpi_varmf_np${np} mpi_varmf ${np} "mpi")
  ising_mpi_test(mpi_corr_np${np} mpi_corr ${np} "mpi")
endforeach()

# ---------------------------------------------------------------- physics
# phys_exact: the full set on 1 rank, the quick subset on 2 and 4
# (oversubscribed) ranks.  The trajectories are the same on any rank count
# (identity_ranks, trajectory_hashes), so the full set on 2 ranks printed
# the same 260 numbers as on 1 rank at twice the cost.  The sanitizer build
# runs only the quick subset on 2 ranks.  phys_exact_ars_np2 runs that
# subset with ARS random numbers.
if(ISING_SANITIZE)
  ising_mpi_test(phys_exact_np2 phys_exact 2 "physics" quick)
else()
  ising_mpi_test(phys_exact_np1 phys_exact 1 "physics")
  ising_mpi_test(phys_exact_np2 phys_exact 2 "physics" quick)
  ising_mpi_test(phys_exact_np4 phys_exact 4 "physics" quick)
  # the quick subset with ARS random numbers ([montecarlo] rng = ars)
  ising_mpi_test(phys_exact_ars_np2 phys_exact 2 "physics" quick ars)
endif()

# Second-moment xi at 2D L=64, T=3.0 against an exact transfer-matrix
# reference, with a power run at a wrong temperature (tests/phys_corr.c).
if(ISING_SANITIZE)
  ising_mpi_test(phys_corr_np2 phys_corr 2 "physics" quick)
else()
  ising_mpi_test(phys_corr_np2 phys_corr 2 "physics")
endif()

# Cluster algorithms (swendsen-wang, wolff: tests/phys_cluster.c): enumeration,
# Kaufman and tempering ladders, full on 1 rank, the quick subset on 2 and 4
# (swendsen-wang splits each lattice over all ranks, wolff runs whole
# replicas); the sanitizer build runs the quick subset on 2 ranks.  Their
# rank-count and resume identity is tests/cluster_identity.sh.
if(ISING_SANITIZE)
  ising_mpi_test(phys_cluster_np2 phys_cluster 2 "physics" quick)
else()
  ising_mpi_test(phys_cluster_np1 phys_cluster 1 "physics")
  ising_mpi_test(phys_cluster_np2 phys_cluster 2 "physics" quick)
  ising_mpi_test(phys_cluster_np4 phys_cluster 4 "physics" quick)
endif()

# Multi-spin-coding kernels (msc.h, msc_async.h): the exact comparisons and
# the statistical equivalence with the byte kernel (phys_exact "msc" and
# "msc-async"), full on 1 rank, the quick msc subset on 2; the sanitizer
# build runs the quick subsets.  The rank-count identity is in identity_ranks
# (decks e, f: msc; g: msc-async).
if(ISING_SANITIZE)
  ising_mpi_test(phys_exact_msc_np2 phys_exact 2 "physics" quick msc)
  ising_mpi_test(phys_exact_async_np1 phys_exact 1 "physics" quick msc-async)
else()
  ising_mpi_test(phys_exact_msc_np1 phys_exact 1 "physics" msc)
  ising_mpi_test(phys_exact_msc_np2 phys_exact 2 "physics" quick msc)
  ising_mpi_test(phys_exact_async_np1 phys_exact 1 "physics" msc-async)
endif()

# ---------------------------------------------------------------- end to end
# The same decks on several rank layouts give bit-identical output (h5diff);
# short runs, mostly MPI start-up (about 0.7 of a core).
ising_script_test(identity_ranks "mpi" 2 ${CMAKE_SOURCE_DIR}/tests/identity.sh $<TARGET_FILE:ising>
  1:1 2:1 2:2 3:1 4:2 4:1 8:2 8:1)
# Every trajectory bit for bit: SHA-256 of the /timeseries and /tempering
# datasets of small runs of every kernel against tests/trajectory_hashes.txt.
ising_script_test(trajectory_hashes "cli" 1 sh ${CMAKE_SOURCE_DIR}/tests/trajectory_hashes.sh $<TARGET_FILE:ising>)
# The same with each slower path forced (the default run takes the best this
# CPU runs; ISING_ISA_PATHS is set in the kernel-flavour section below).
# Bad input: exit status 2, one line, nothing overwritten.
ising_script_test(cli_errors "cli" 1 ${CMAKE_SOURCE_DIR}/tests/cli_errors.sh $<TARGET_FILE:ising> ${CMAKE_SOURCE_DIR})
# Checkpoint/restart: resume equality on 1->2, 2->1, 2->4 ranks, signals,
# SIGKILL fault injection, damaged checkpoints, refused physics changes
# (waits for files and signals: about half a core).
ising_script_test(checkpoint_resume "mpi" 2 bash ${CMAKE_SOURCE_DIR}/tests/resume.sh $<TARGET_FILE:ising>)
# A full disk (a 4 MiB tmpfs, mounted where the test may: root) on 1 and 2
# ranks: exit 1 within seconds with one message, the output readable, the
# checkpoints valid, and resume after freeing space equal to an
# uninterrupted run; a hang fails by the TIMEOUT.
ising_script_test(diskfull "mpi" 1 bash ${CMAKE_SOURCE_DIR}/tests/diskfull.sh $<TARGET_FILE:ising>)
set_tests_properties(diskfull PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
# Cluster algorithms: the same bits on 1, 2, 3, 4 and 8 ranks (swendsen-wang)
# and 1, 2, 4 (wolff), and across resume on another rank count (checkpoints
# during and after the thermalization); short runs, mostly MPI start-up.
# Release build only: the sanitizer build runs the cluster code through
# mpi_cluster (every layout) and phys_cluster_np2 (engine, tempering).
if(NOT ISING_SANITIZE)
  ising_script_test(cluster_identity "mpi" 2 bash ${CMAKE_SOURCE_DIR}/tests/cluster_identity.sh $<TARGET_FILE:ising>)
endif()
# Quenched disorder ([disorder]): every sample against exact enumeration
# (tests/phys_disorder.c: byte kernels, msc-async, the gaussian identity),
# full on 1 rank, the quick subset on 2 (the sanitizer build: that alone);
# the same bits on 1, 2, 3, 4 and 8 ranks, across a resume and through a
# couplings file (tests/disorder_identity.sh, Release only).
if(ISING_SANITIZE)
  ising_mpi_test(phys_disorder_np2 phys_disorder 2 "physics" quick)
else()
  ising_mpi_test(phys_disorder_np1 phys_disorder 1 "physics")
  ising_mpi_test(phys_disorder_np2 phys_disorder 2 "physics" quick)
  ising_script_test(disorder_identity "mpi" 2 bash ${CMAKE_SOURCE_DIR}/tests/disorder_identity.sh $<TARGET_FILE:ising>)
endif()
# Checkpoint/restart with the MSC kernels (1 -> 3 ranks against 2 ranks).
foreach(k msc msc-async)
  string(REPLACE "msc-async" "async" name ${k})
  ising_script_test(checkpoint_resume_${name} "mpi" 2 sh ${CMAKE_SOURCE_DIR}/tests/resume_msc.sh $<TARGET_FILE:ising> ${k})
endforeach()

# ---------------------------------------------------------------- analysis
# The Python analysis (analysis/, a package; analysis/conftest.py holds the
# shared fixtures) by pytest, on output of the ising executable.
find_program(SYSTEM_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
# ising_pytest(NAME FILE PROCESSORS [VAR=VALUE...]): analysis/FILE by pytest.
function(ising_pytest name file procs)
  add_test(NAME ${name}
           COMMAND ${SYSTEM_PYTHON3} -m pytest -q -p no:cacheprovider ${CMAKE_SOURCE_DIR}/analysis/${file})
  set(env ${ISING_TEST_ENV_MPI} "ISING_BIN=$<TARGET_FILE:ising>" "PYTHONPATH=${CMAKE_SOURCE_DIR}"
      "PYTHONDONTWRITEBYTECODE=1" ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS "cli" ENVIRONMENT "${env}")
  if(procs GREATER 1)
    set_tests_properties(${name} PROPERTIES PROCESSORS ${procs})
  endif()
endfunction()
if(SYSTEM_PYTHON3)
  # The output layout from Python (h5py), as a user's script reads it.
  ising_pytest(analysis_output_layout test_ising_output.py 1)
  # MBAR free energies against enumeration, Kaufman and the file's integration.
  ising_pytest(analysis_freeenergy test_ising_freeenergy.py 1 MPLBACKEND=Agg)
  # The FSS package: tau_int, binning, reweighting, an end-to-end study
  # (its runs use 2 ranks).
  ising_pytest(analysis_fss test_ising_fss.py 2 MPLBACKEND=Agg)
  # Spin-glass FSS (crossings of xi_SG/L and g) on synthetic files with known
  # crossings, a non-crossing family, and a small [disorder] run.
  ising_pytest(analysis_fss_sg test_ising_fss_sg.py 1 MPLBACKEND=Agg)
endif()

# ---------------------------------------------------------------- slurm
# The jobs/ scripts on a real SLURM started on localhost (tests/slurm_jobs.sh
# installs slurmctld, slurmd and munge when missing; exit 77 = skipped where
# SLURM cannot run).  Fixed ports: one SLURM test at a time (RESOURCE_LOCK);
# its jobs are small and it mostly waits for the scheduler, so other tests
# run beside it.
add_test(NAME slurm_jobs COMMAND bash ${CMAKE_SOURCE_DIR}/tests/slurm_jobs.sh $<TARGET_FILE:ising>)
set_tests_properties(slurm_jobs PROPERTIES ENVIRONMENT "SLURM_TEST_SKIP_CODE=77"
  SKIP_RETURN_CODE 77 TIMEOUT 400 RESOURCE_LOCK slurm_localhost LABELS "slurm")

# ---------------------------------------------------------------- fuzz
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

# ---------------------------------------------------------------- kernel flavours
# Kernel flavours (x86-64 only).  The sweep kernel (src/update.c), the
# multi-spin-coding kernels (src/msc.c, src/msc_async.c) and the Philox fill
# (src/rng.c) pick their AVX-512, AVX2 or portable path at compile time; the
# ising program holds all three (run-time dispatch, CMakeLists.txt), but the
# kernel suites call the kernels by name, which is the portable build in the
# main library (the -march one with ISING_NATIVE).  So those sources are
# compiled once more per other path, at x86-64-v3 (AVX2) and x86-64-v4 with
# the AVX-512 extensions the fast paths use, and at baseline x86-64 under
# ISING_NATIVE, and linked with the rest of the kernel sources (compiled
# once for all) and the kernel suites, so that every machine tests each
# path it runs against the reference and Random123.  A path this CPU lacks
# is not built; configure says so.  The ising program's paths are tested end
# to end with ISING_ISA forced (trajectory_hashes_<path>).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  include(CheckCSourceRuns)
  check_c_source_runs("int main(void) { __builtin_cpu_init(); return !(__builtin_cpu_supports(\"avx2\")
    && __builtin_cpu_supports(\"bmi\") && __builtin_cpu_supports(\"bmi2\")
    && __builtin_cpu_supports(\"fma\")); }" ISING_CPU_HAS_AVX2)
  check_c_source_runs("int main(void) { __builtin_cpu_init(); return !(__builtin_cpu_supports(\"avx512f\")
    && __builtin_cpu_supports(\"avx512bw\") && __builtin_cpu_supports(\"avx512dq\")
    && __builtin_cpu_supports(\"avx512vl\") && __builtin_cpu_supports(\"avx512cd\")
    && __builtin_cpu_supports(\"avx512vbmi\") && __builtin_cpu_supports(\"avx512vbmi2\")
    && __builtin_cpu_supports(\"avx512vpopcntdq\")); }" ISING_CPU_HAS_AVX512)
  set(ISING_FLAVOURS "")
  set(ISING_ISA_PATHS portable)
  if(NOT ISING_DISPATCH)
    list(APPEND ISING_FLAVOURS portable)
  endif()
  if(ISING_CPU_HAS_AVX2)
    list(APPEND ISING_FLAVOURS avx2)
    list(APPEND ISING_ISA_PATHS avx2)
  else()
    message(STATUS "ising: this CPU lacks AVX2 + BMI2 + FMA: the avx2 path is not tested")
  endif()
  if(ISING_CPU_HAS_AVX2 AND ISING_CPU_HAS_AVX512)
    list(APPEND ISING_FLAVOURS avx512)
  else()
    message(STATUS "ising: this CPU lacks AVX-512 with VBMI2 and VPOPCNTDQ: the avx512 path is not tested")
  endif()
  if(ISING_DISPATCH)
    # The plain trajectory_hashes run takes the best path; force the others.
    foreach(isa ${ISING_ISA_PATHS})
      ising_script_test(trajectory_hashes_${isa} "cli" 1 sh
        ${CMAKE_SOURCE_DIR}/tests/trajectory_hashes.sh $<TARGET_FILE:ising>)
      set_property(TEST trajectory_hashes_${isa} APPEND PROPERTY ENVIRONMENT ISING_ISA=${isa})
      # Swendsen-Wang against its oracle on each path (the bond words come
      # from the path's Philox fill).
      ising_mpi_test(mpi_cluster_${isa}_np2 mpi_cluster 2 "mpi" labels)
      set_property(TEST mpi_cluster_${isa}_np2 APPEND PROPERTY ENVIRONMENT ISING_ISA=${isa})
    endforeach()
  endif()
  set(ISING_KERNEL_SOURCES error cpu layout halo lattice lattice_io rng model update msc msc_async
    exact observe config)
  set(ISING_ISA_SOURCES update rng msc msc_async)
  set(common_srcs ${ISING_KERNEL_SOURCES})
  list(REMOVE_ITEM common_srcs ${ISING_ISA_SOURCES})
  set(isa_srcs ${ISING_ISA_SOURCES})
  foreach(v common_srcs isa_srcs)
    list(TRANSFORM ${v} PREPEND ${CMAKE_SOURCE_DIR}/src/)
    list(TRANSFORM ${v} APPEND .c)
  endforeach()
  set(flavour_tests test_update test_rng test_msc test_msc_async)
  # The ISA-independent sources and the suites, built like the main build's.
  add_library(ising_kernels_common OBJECT ${common_srcs})
  set(objlibs ising_kernels_common)
  foreach(t ${flavour_tests})
    add_library(${t}_obj OBJECT ${CMAKE_SOURCE_DIR}/tests/${t}.c)
    list(APPEND objlibs ${t}_obj)
  endforeach()
  foreach(lib ${objlibs})
    target_include_directories(${lib} PUBLIC ${CMAKE_SOURCE_DIR}/include ${RANDOM123_INCLUDE_DIR})
    target_compile_definitions(${lib} PUBLIC _POSIX_C_SOURCE=200809L)
    target_compile_options(${lib} PUBLIC ${ISING_WARN} ${ISING_ARCH} ${ISING_SAN})
    target_link_libraries(${lib} PUBLIC MPI::MPI_C PkgConfig::INIH PkgConfig::CHECK)
  endforeach()
  foreach(flavour ${ISING_FLAVOURS})
    if(flavour STREQUAL "avx2")
      set(march -march=x86-64-v3)
    elseif(flavour STREQUAL "avx512")
      set(march -march=x86-64-v4 -mavx512vbmi -mavx512vbmi2 -mavx512vpopcntdq)
    else()
      set(march -march=x86-64)
    endif()
    add_library(ising_kernels_${flavour} STATIC ${isa_srcs} $<TARGET_OBJECTS:ising_kernels_common>)
    target_include_directories(ising_kernels_${flavour} PUBLIC ${CMAKE_SOURCE_DIR}/include
      ${RANDOM123_INCLUDE_DIR})
    target_compile_definitions(ising_kernels_${flavour} PUBLIC _POSIX_C_SOURCE=200809L)
    target_compile_options(ising_kernels_${flavour} PRIVATE ${ISING_WARN} ${march} ${ISING_SAN})
    target_link_options(ising_kernels_${flavour} PUBLIC ${ISING_SAN})
    target_link_libraries(ising_kernels_${flavour} PUBLIC MPI::MPI_C PkgConfig::INIH ${MATH_LIBRARY})
    foreach(t ${flavour_tests})
      add_executable(${t}_${flavour} $<TARGET_OBJECTS:${t}_obj> $<TARGET_OBJECTS:ising_testutil>)
      target_link_libraries(${t}_${flavour} PRIVATE ising_kernels_${flavour} PkgConfig::CHECK)
      add_test(NAME unit_${t}_${flavour} COMMAND ${t}_${flavour})
      file(READ ${CMAKE_SOURCE_DIR}/tests/${t}.c body)
      if(body MATCHES "MPI_Init")
        set(env "${ISING_TEST_ENV_MPI}")
      else()
        set(env "${ISING_TEST_ENV}")
      endif()
      set_tests_properties(unit_${t}_${flavour} PROPERTIES LABELS unit ENVIRONMENT "${env}"
        WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
      # The avx2 packed kernels once more with pdep/pext emulated (what AMD
      # CPUs before Zen 3 run, cpu.h): the same bits as their references
      # (msc-async's 12 s suite only in the Release build: the suite time).
      if(flavour STREQUAL "avx2" AND (t STREQUAL "test_msc" OR
                                      (t STREQUAL "test_msc_async" AND NOT ISING_SANITIZE)))
        add_test(NAME unit_${t}_avx2_softpdep COMMAND ${t}_${flavour})
        set_tests_properties(unit_${t}_avx2_softpdep PROPERTIES LABELS unit
          ENVIRONMENT "${env};ISING_PDEP=emulated" WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
      endif()
    endforeach()
  endforeach()
endif()

# ---------------------------------------------------------------- scheduling
# Checkpoint bit-flip fuzz: single bits flipped all over a checkpoint, each
# resume identical to an uninterrupted run or from .ckpt.old (ckpt_fuzz.sh).
add_test(NAME checkpoint_fuzz COMMAND bash ${CMAKE_SOURCE_DIR}/tests/ckpt_fuzz.sh $<TARGET_FILE:ising>)
# (one core: it keeps about 0.9 of two busy, 6 s user + 8 s system in 15 s)
set_tests_properties(checkpoint_fuzz PROPERTIES LABELS "mpi" ENVIRONMENT "${ISING_TEST_ENV_MPI}"
  PROCESSORS 1 TIMEOUT 300)

# ctest starts tests in decreasing COST until it has timings of its own
# (Testing/Temporary/CTestCostData.txt, absent in a fresh build): the long
# tests first, so that none is left running alone at the end.  Seconds on a
# 2-core machine, Release and sanitizer build (tests not listed: ~1 s).
function(ising_cost name release sanitize)
  if(TEST ${name})
    if(ISING_SANITIZE)
      set_tests_properties(${name} PROPERTIES COST ${sanitize})
    else()
      set_tests_properties(${name} PROPERTIES COST ${release})
    endif()
  endif()
endfunction()
ising_cost(phys_exact_msc_np1     48  0)
ising_cost(slurm_jobs             44  0)
ising_cost(cluster_identity       32  0)
ising_cost(disorder_identity      16  0)
ising_cost(phys_disorder_np1      22  0)
ising_cost(phys_disorder_np2      12 30)
ising_cost(phys_exact_np2          8  5)
ising_cost(fuzz_deck              31  0)
ising_cost(checkpoint_resume      30 50)
ising_cost(checkpoint_fuzz        16 20)
ising_cost(phys_exact_async_np1   30  3)
ising_cost(cli_errors             38 23)
ising_cost(identity_ranks         22 24)
ising_cost(phys_cluster_np1       20  0)
ising_cost(phys_cluster_np4       20  0)
ising_cost(phys_exact_np1         19  0)
ising_cost(phys_exact_np4         18  0)
ising_cost(phys_corr_np2          16 10)
ising_cost(phys_cluster_np2       10 30)
ising_cost(analysis_fss           10 17)
ising_cost(trajectory_hashes       7 15)
ising_cost(trajectory_hashes_portable 7 15)
ising_cost(trajectory_hashes_avx2  7 15)
ising_cost(analysis_freeenergy     6  6)
ising_cost(phys_exact_msc_np2      3 35)
ising_cost(checkpoint_resume_async 3  6)
ising_cost(unit_test_msc_async     1  6)
ising_cost(unit_test_baseline      1  5)
ising_cost(mpi_cluster_np4        13  5)
ising_cost(mpi_cluster_np8         6 16)
ising_cost(mpi_cluster_np6         4 10)
ising_cost(mpi_cluster_np2         4  9)

# ---------------------------------------------------------------- resources
# `ctest -j <4 x cores> --resource-spec-file <build>/ctest-resources.json`
# (jobs/local.sh): the "cores" resource holds this machine's cores; every
# test takes its PROCESSORS of them (capped at the machine's) except the
# ones in ISING_TEST_WAITING, whose processes mostly sleep (cli_errors: a
# 31 s wall-time budget and lock waits, 6 s of CPU in 26 s; slurm_jobs:
# waits for the SLURM scheduler, small jobs).  Without the spec file ctest
# ignores RESOURCE_GROUPS and PROCESSORS alone schedules.
set(ISING_TEST_WAITING cli_errors slurm_jobs)
# The cores this process may use (nproc, as jobs/local.sh counts them: a
# container's CPU set, not the host's), else the host's.
execute_process(COMMAND nproc OUTPUT_VARIABLE ISING_TEST_CORES RESULT_VARIABLE rc
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT rc EQUAL 0 OR NOT ISING_TEST_CORES MATCHES "^[1-9][0-9]*$")
  cmake_host_system_information(RESULT ISING_TEST_CORES QUERY NUMBER_OF_LOGICAL_CORES)
endif()
if(NOT ISING_TEST_CORES GREATER 0)
  set(ISING_TEST_CORES 1)
endif()
file(WRITE ${CMAKE_BINARY_DIR}/ctest-resources.json
  "{\"version\": {\"major\": 1, \"minor\": 0},\n"
  " \"local\": [{\"cores\": [{\"id\": \"0\", \"slots\": ${ISING_TEST_CORES}}]}]}\n")
get_property(all_tests DIRECTORY PROPERTY TESTS)
foreach(t ${all_tests})
  if(NOT t IN_LIST ISING_TEST_WAITING)
    get_test_property(${t} PROCESSORS procs)
    if(NOT procs)
      set(procs 1)
    elseif(procs GREATER ISING_TEST_CORES)
      set(procs ${ISING_TEST_CORES})
    endif()
    set_tests_properties(${t} PROPERTIES RESOURCE_GROUPS "cores:${procs}")
  endif()
endforeach()
