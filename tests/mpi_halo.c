/*
 * mpi_halo.c -- halo exchange and index maps on 1, 2, 3, 4 and 8 ranks
 * (registered in tests/tests.cmake): every site is set to a pattern of
 * its global index, the halos of one colour are refreshed, and every face
 * halo site must then hold the pattern of its periodic image if it has that
 * colour and still hold the poison value otherwise.  2D and 3D lattices,
 * with block extents that are uneven and odd; the int8 lattice, the packed
 * rows of the multi-spin-coding kernel (y and z faces, where the grid keeps
 * x whole: 2D on 1 to 3 ranks, 3D on 1 to 4; after the store the x halos
 * hold the periodic row), and the halo module itself with 4-byte elements
 * in natural order.
 */
#include <check.h>
#include <mpi.h>
#include <stdlib.h>

#include "ising/error.h"
#include "ising/lattice.h"
#include "ising/halo.h"
#include "ising/layout.h"
#include "ising/msc.h"
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

/* The packed copy: load a poisoned lattice, refresh one colour's packed
 * halo, store it back.  Where the grid splits x (2D on 4 or 8 ranks, 3D on
 * 8) the object is refused instead. */
static void check_packed(int dim, int64_t Lx, int64_t Ly, int64_t Lz) {
  ising_config cfg;
  ising_config_defaults(&cfg);
  cfg.dim = dim;
  cfg.L[0] = Lx;
  cfg.L[1] = Ly;
  cfg.L[2] = dim == 3 ? Lz : 1;
  ising_layout *lay = NULL;
  ising_lattice *lat = NULL;
  ising_msc *p = NULL;
  ck_assert_msg(ising_layout_create(MPI_COMM_WORLD, &cfg, 0, &lay) == ISING_OK, "%s", ising_err_message());
  ck_assert_int_eq(ising_lattice_create(lay, &lat), ISING_OK);
  if (lay->procs[0] > 1) {
    ck_assert_int_eq(ising_msc_create(lat, &p), ISING_ERR_INPUT);
    ck_assert_ptr_null(p);
    ising_err_clear();
    ising_lattice_destroy(&lat);
    ising_layout_destroy(&lay);
    return;
  }
  ck_assert_int_eq(ising_msc_create(lat, &p), ISING_OK);
  int64_t n[3], s0[3];
  ising_lattice_extent(lat, n, s0);
  const int zlo = dim == 3 ? -1 : 0, zhi = dim == 3 ? (int)n[2] : 0;
  ising_test_tally tally = {0};
  for (int colour = 0; colour < 2; colour++) {
    for (int64_t z = zlo; z <= zhi; z++)
      for (int64_t y = -1; y <= n[1]; y++)
        for (int64_t x = -1; x <= n[0]; x++) {
          int halo = x < 0 || y < 0 || x >= n[0] || y >= n[1] || (dim == 3 && (z < 0 || z >= n[2]));
          int q = pattern(ising_lattice_global_index(lat, x, y, z));
          ising_lattice_set(lat, x, y, z, halo ? -q : q);
        }
    ck_assert_int_eq(ising_msc_load(p, lat), ISING_OK);
    ck_assert_int_eq(ising_msc_halo(p, colour), ISING_OK);
    ck_assert_int_eq(ising_msc_store(p, lat), ISING_OK);
    for (int64_t z = zlo; z <= zhi; z++)
      for (int64_t y = -1; y <= n[1]; y++)
        for (int64_t x = -1; x <= n[0]; x++) {
          int oy = y < 0 || y >= n[1], oz = dim == 3 && (z < 0 || z >= n[2]);
          if (oy + oz > 1) continue; /* edges and corners of the y/z halo */
          int q = pattern(ising_lattice_global_index(lat, x, y, z));
          /* interior rows: every site (x halos from the periodic row);
           * halo rows: the refreshed colour, the rest still poisoned */
          int want = oy + oz == 0 || ising_lattice_colour(lat, x, y, z) == colour ? q : -q;
          ising_test_check(&tally, ising_lattice_get(lat, x, y, z) == want,
                           "packed %dD %lldx%lldx%lld colour %d: site (%lld,%lld,%lld) of block "
                           "at (%lld,%lld,%lld)",
                           dim, (long long)Lx, (long long)Ly, (long long)Lz, colour, (long long)x,
                           (long long)y, (long long)z, (long long)s0[0], (long long)s0[1],
                           (long long)s0[2]);
        }
  }
  ising_test_tally_assert(&tally);
  ck_assert_int_eq(ising_msc_bytes(p),
                   8 * 2 * ((Lx / 2 + 63) / 64) * (n[1] + 2) * (dim == 3 ? n[2] + 2 : 1));
  ising_msc_destroy(&p);
  ising_lattice_destroy(&lat);
  ising_layout_destroy(&lay);
}

START_TEST(packed_halo) {
  check_packed(2, 8, 8, 1);
  check_packed(2, 200, 14, 1); /* a partial second word */
  check_packed(2, 2, 8, 1);
  check_packed(3, 4, 4, 4);
  check_packed(3, 130, 10, 8);
}
END_TEST

/* The module alone: int32 values in natural order with one-site halos, all
 * sites of a layer under colour 0 (runs of stride 1 along x, or of stride
 * X for the x faces), colour 1 empty. */
START_TEST(generic_elements) {
  for (int dim = 2; dim <= 3; dim++) {
    ising_config cfg;
    ising_config_defaults(&cfg);
    cfg.dim = dim;
    cfg.L[0] = 6;
    cfg.L[1] = 10;
    cfg.L[2] = dim == 3 ? 8 : 1;
    ising_layout *lay = NULL;
    ck_assert_int_eq(ising_layout_create(MPI_COMM_WORLD, &cfg, 0, &lay), ISING_OK);
    const int64_t *n = lay->n, *s0 = lay->start;
    const int64_t X = n[0] + 2, Y = n[1] + 2, Z = dim == 3 ? n[2] + 2 : 1, zh = dim == 3;
#define AT(x, y, z) ((x) + 1 + X * ((y) + 1 + Y * ((z) + zh)))
    int32_t *v = malloc((size_t)(X * Y * Z) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    ising_halo_geom g = ising_halo_geom_of(lay);
    ising_halo *h = NULL;
    ck_assert_int_eq(ising_halo_create(&g, sizeof *v, (1u << dim) - 1, &h), ISING_OK);
    for (int k = 0; k < dim; k++)
      for (int w = 0; w < 2; w++)
        for (int s = 0; s < 2; s++) {
          int64_t l = w == ISING_HALO_SEND ? (s ? n[k] - 1 : 0) : (s ? n[k] : -1);
          int a = k == 0 ? 1 : 0, b = k == 2 ? 1 : 2;
          for (int64_t o = 0; o < n[b]; o++) {
            int64_t p[3] = {0, 0, 0};
            p[k] = l;
            p[b] = o;
            ck_assert_int_eq(ising_halo_add(h, k, s, 0, w, AT(p[0], p[1], p[2]), n[a], a == 1 ? X : 1), ISING_OK);
          }
        }
    ck_assert_int_eq(ising_halo_setup(h), ISING_OK);
    for (int64_t i = 0; i < X * Y * Z; i++) v[i] = -1;
    for (int64_t z = 0; z < n[2]; z++)
      for (int64_t y = 0; y < n[1]; y++)
        for (int64_t x = 0; x < n[0]; x++)
          v[AT(x, y, z)] = (int32_t)((s0[0] + x) + 100 * (s0[1] + y) + 10000 * (s0[2] + z));
    ck_assert_int_eq(ising_halo_exchange(h, v, 1), ISING_OK); /* colour 1: nothing */
    for (int64_t y = 0; y < n[1]; y++) ck_assert_int_eq(v[AT(-1, y, 0)], -1);
    ck_assert_int_eq(ising_halo_start(h, v, 0), ISING_OK);
    ck_assert_int_eq(ising_halo_finish(h), ISING_OK);
    for (int64_t z = dim == 3 ? -1 : 0; z <= (dim == 3 ? n[2] : 0); z++)
      for (int64_t y = -1; y <= n[1]; y++)
        for (int64_t x = -1; x <= n[0]; x++) {
          int out = (x < 0 || x >= n[0]) + (y < 0 || y >= n[1]) + (dim == 3 && (z < 0 || z >= n[2]));
          if (out != 1) continue;
          int64_t gx = (s0[0] + x + cfg.L[0]) % cfg.L[0], gy = (s0[1] + y + cfg.L[1]) % cfg.L[1],
                  gz = (s0[2] + z + cfg.L[2]) % cfg.L[2];
          ck_assert_int_eq(v[AT(x, y, z)], (int32_t)(gx + 100 * gy + 10000 * gz));
        }
#undef AT
    /* finish without start, and runs after setup, are refused */
    ck_assert_int_eq(ising_halo_finish(h), ISING_ERR_INTERNAL);
    ck_assert_int_eq(ising_halo_add(h, 0, 0, 0, ISING_HALO_SEND, 0, 1, 1), ISING_ERR_INTERNAL);
    ising_err_clear();
    ising_halo_destroy(&h);
    ck_assert_ptr_null(h);
    ising_halo_destroy(&h);
    free(v);
    ising_layout_destroy(&lay);
  }
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
  tcase_add_test(tc, packed_halo);
  tcase_add_test(tc, generic_elements);
  tcase_add_test(tc, index_maps);
  suite_add_tcase(s, tc);
  int rc = ising_test_run_suite(s);
  /* all ranks must agree on success */
  MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return rc;
}
