#!/bin/sh
# jobs/local.sh run|test -- everything a fresh Debian 12 machine needs.
#
#   sh jobs/local.sh run    install what is missing, build (Release), and run
#                           inputs/default.ini on 2 MPI ranks (output in
#                           build/default.h5, summary on the terminal)
#   sh jobs/local.sh test   install what is missing (and SLURM for the
#                           slurm test), build Release and a Debug build with
#                           AddressSanitizer + UBSan, and run the whole test
#                           suite in both
#
# Debian packages are installed with apt-get as root, or through sudo.
# shellcheck disable=SC2086 # the package lists are split into words on purpose
set -eu
cd "$(dirname "$0")/.."
what=${1:-}
case "$what" in run|test) ;; *) echo "usage: sh jobs/local.sh run|test" >&2; exit 2 ;; esac

PACKAGES="cmake make gcc libc6-dev pkg-config git libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
libfftw3-dev libfftw3-mpi-dev check librandom123-dev libinih-dev libgsl-dev clang libclang-rt-14-dev
python3 python3-numpy python3-scipy python3-h5py python3-matplotlib python3-pytest procps netbase"
# The slurm test (tests/slurm_jobs.sh, root only) would install these itself,
# in the middle of the test run; it is skipped where they cannot be had.
SLURM_PACKAGES="slurmctld slurmd slurm-client munge"
not_installed() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || printf ' %s' "$p"
  done
}
apt_install() {
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@"
}
missing=$(not_installed $PACKAGES)
slurm_missing=""
if [ "$what" = test ] && [ "$(id -u)" -eq 0 ]; then slurm_missing=$(not_installed $SLURM_PACKAGES); fi
if [ -n "$missing$slurm_missing" ]; then
  echo "local.sh: installing Debian packages:$missing$slurm_missing"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "local.sh: need root or sudo to install:$missing" >&2; exit 1; fi
  $SUDO apt-get update -qq
  [ -z "$missing" ] || apt_install $missing
  [ -z "$slurm_missing" ] || apt_install $slurm_missing ||
    echo "local.sh: could not install$slurm_missing: the slurm test will be skipped"
fi

# Open MPI refuses to run as root unless told; containers and CI run as root.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_rmaps_base_oversubscribe=1
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > build.log 2>&1 || { cat build.log; exit 1; }
cmake --build build -j "$jobs" >> build.log 2>&1 || { cat build.log; exit 1; }

if [ "$what" = run ]; then
  cd build
  exec mpiexec -n 2 ./ising run ../inputs/default.ini --force
fi

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DISING_SANITIZE=ON -DISING_FUZZ=OFF \
  >> build.log 2>&1 || { cat build.log; exit 1; }
cmake --build build-asan -j "$jobs" >> build.log 2>&1 || { cat build.log; exit 1; }
# The cores go to the tests by the "cores" resource (tests/tests.cmake):
# never more compute-bound tests than cores, the mostly sleeping ones beside
# them; -j only bounds the number of tests started at once.
run_tests() {
  ctest --test-dir "$1" --output-on-failure -j $((4 * jobs)) \
    --resource-spec-file "$PWD/$1/ctest-resources.json" ${2:+-LE "$2"}
}
echo "== Release build: all tests"
run_tests build
echo "== Debug build with AddressSanitizer and UBSan: all tests but SLURM"
run_tests build-asan slurm
