/*
 * mpi_halo.c -- halo exchange and index maps on 1, 2, 3, 4 and 8 ranks
 * (registered in tests/tests.cmake): every site is set to a pattern of
 * its global index, the halos of one colour are refreshed, and every face
 * halo site must then hold the pattern of its periodic image if it has that
 * colour and still hold the poison value otherwise.  2D and 3D lattices,
 * with block extents that are uneven and odd.
 */
#include <check.h>
#include <mpi.h>

#include "ising/error.h"
#include "ising/lattice.h"
#include "ising/layout.h"
#include "testutil.h"

static int pattern(int64_t g) { return ((g * 2654435761u) >> 7) & 1 ? 1 : -1; }

static void check_lattice(int dim, int64_t Lx, int64_t Ly, int64_t Lz) {
  ising_config cfg;
  ising_config_defaults(&cfg);
  cfg.dim = dim;
  cfg.L[0] = Lx;
  cfg.L[1] = Ly;
  cfg.L[2] = dim == 3 ? Lz : 1;
  ising_layout *lay = NULL;
  ising_lattice *lat = NULL;
  ck_assert_msg(ising_layout_create(MPI_COMM_WORLD, &cfg, 0, &lay) == ISING_OK, "%s", ising_err_message());
  ck_assert_int_eq(ising_lattice_create(lay, &lat), ISING_OK);
  int64_t n[3], s0[3];
  ising_lattice_extent(lat, n, s0);
  /* block extents add up to L along every axis */
  int64_t vol = n[0] * n[1] * n[2];
  MPI_Allreduce(MPI_IN_PLACE, &vol, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  ck_assert_int_eq(vol, Lx * Ly * (dim == 3 ? Lz : 1));
  for (int colour = 0; colour < 2; colour++) {
    /* poison everything, including halos, then set the interior */
    ising_lattice_fill_cold(lat, 1);
    for (int64_t z = -1; z <= n[2]; z++)
      for (int64_t y = -1; y <= n[1]; y++)
        for (int64_t x = -1; x <= n[0]; x++) {
          if (dim == 2 && z != 0) continue;
          int halo = x < 0 || y < 0 || x >= n[0] || y >= n[1] || (dim == 3 && (z < 0 || z >= n[2]));
          /* poison: the opposite of the pattern, so a stale value is seen */
          int p = pattern(ising_lattice_global_index(lat, x, y, z));
          ising_lattice_set(lat, x, y, z, halo ? -p : p);
        }
    ck_assert_int_eq(ising_lattice_halo(lat, colour), ISING_OK);
    for (int64_t z = -1; z <= n[2]; z++)
      for (int64_t y = -1; y <= n[1]; y++)
        for (int64_t x = -1; x <= n[0]; x++) {
          if (dim == 2 && z != 0) continue;
          int out = (x < 0 || x >= n[0]) + (y < 0 || y >= n[1]) + (dim == 3 && (z < 0 || z >= n[2]));
          if (out != 1) continue; /* interior, or an edge/corner (not exchanged) */
          int p = pattern(ising_lattice_global_index(lat, x, y, z));
          int want = ising_lattice_colour(lat, x, y, z) == colour ? p : -p;
          ck_assert_msg(ising_lattice_get(lat, x, y, z) == want,
                        "%dD %lldx%lldx%lld colour %d: halo (%lld,%lld,%lld) of block at (%lld,%lld,%lld)",
                        dim, (long long)Lx, (long long)Ly, (long long)Lz, colour, (long long)x,
                        (long long)y, (long long)z, (long long)s0[0], (long long)s0[1], (long long)s0[2]);
        }
  }
  ising_lattice_destroy(&lat);
  ising_layout_destroy(&lay);
}

START_TEST(halo_2d) {
  check_lattice(2, 8, 8, 1);
  check_lattice(2, 10, 14, 1);
  check_lattice(2, 2, 8, 1);
  check_lattice(2, 30, 6, 1);
}
END_TEST

START_TEST(halo_3d) {
  check_lattice(3, 4, 4, 4);
  check_lattice(3, 6, 10, 8);
  check_lattice(3, 2, 2, 8);
}
END_TEST

START_TEST(index_maps) {
  ising_config cfg;
  ising_config_defaults(&cfg);
  cfg.dim = 3;
  cfg.L[0] = 6;
  cfg.L[1] = 4;
  cfg.L[2] = 8;
  ising_layout *lay = NULL;
  ising_lattice *lat = NULL;
  ck_assert_int_eq(ising_layout_create(MPI_COMM_WORLD, &cfg, 0, &lay), ISING_OK);
  ck_assert_int_eq(ising_lattice_create(lay, &lat), ISING_OK);
  int64_t n[3], s0[3];
  ising_lattice_extent(lat, n, s0);
  /* global index: natural order, periodic images of halo sites */
  ck_assert_int_eq(ising_lattice_global_index(lat, 0, 0, 0), s0[0] + 6 * (s0[1] + 4 * s0[2]));
  int64_t gx = (s0[0] + 5) % 6, gy = (s0[1] + 3) % 4, gz = (s0[2] + 7) % 8;
  ck_assert_int_eq(ising_lattice_global_index(lat, -1, -1, -1), gx + 6 * (gy + 4 * gz));
  ck_assert_int_eq(ising_lattice_colour(lat, 0, 0, 0), (int)((s0[0] + s0[1] + s0[2]) & 1));
  /* each global index appears exactly once over the interiors of all ranks */
  int64_t hits[192] = {0};
  for (int64_t z = 0; z < n[2]; z++)
    for (int64_t y = 0; y < n[1]; y++)
      for (int64_t x = 0; x < n[0]; x++) hits[ising_lattice_global_index(lat, x, y, z)]++;
  MPI_Allreduce(MPI_IN_PLACE, hits, 192, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  for (int i = 0; i < 192; i++) ck_assert_int_eq(hits[i], 1);
  ising_lattice_destroy(&lat);
  ising_layout_destroy(&lay);
}
END_TEST

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  Suite *s = suite_create("halo");
  TCase *tc = tcase_create("halo");
  tcase_add_test(tc, halo_2d);
  tcase_add_test(tc, halo_3d);
  tcase_add_test(tc, index_maps);
  suite_add_tcase(s, tc);
  int rc = ising_test_run_suite(s);
  /* all ranks must agree on success */
  MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return rc;
}
