/*
 * report.c -- the engine's console output (engine.h): the start line, the
 * progress lines and the summary table at the end, next to the reference
 * values that results.c made.  Called on world rank 0 only; prints and
 * computes nothing else.
 *
 * An error bar is shown only when it is finite and positive, and so is the
 * deviation from a reference in error bars; otherwise the bar reads
 * "undefined" (a series too short or too frozen to estimate it).
 */
#include <math.h>
#include <stdio.h>

#include "engine.h"

static void format_duration(double s, char *buf, size_t size) {
  if (!(s >= 0) || s > 1e8) {
    snprintf(buf, size, "?");
    return;
  }
  long t = (long)(s + 0.5);
  snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

static int err_defined(double err) { return isfinite(err) && err > 0; }

/* "v +- err": v right-aligned in vw columns with vp decimals, err
 * left-aligned in ew columns with ep decimals, or "undefined". */
static void print_value(int vw, int vp, double v, int ew, int ep, double err) {
  printf("%*.*f +- ", vw, vp, v);
  if (err_defined(err))
    printf("%-*.*f", ew, ep, err);
  else
    printf("%-*s", ew, "undefined");
}

/* " (+x.x sigma)": the deviation of v from ref in error bars, if defined. */
static void print_sigma(double v, double ref, double err) {
  if (err_defined(err)) printf(" (%+.1f sigma)", (v - ref) / err);
}

void engine_print_banner(const engine *E, const ising_lattice *lat, int resuming) {
  const ising_config *cfg = E->cfg;
  int64_t n[3];
  ising_lattice_extent(lat, n, NULL);
  printf("ising: %s%dD lattice", resuming ? "resuming " : "", cfg->dim);
  for (int k = 0; k < cfg->dim; k++) printf("%s%lld", k ? "x" : " ", (long long)cfg->L[k]);
  printf(", %d replica%s (", E->R, E->R > 1 ? "s" : "");
  if (cfg->disorder) printf("%d disorder sample%s x ", E->samples, E->samples > 1 ? "s" : "");
  printf("%d temperature%s x %d cop%s) on %d rank%s: %d group%s of %d, grid", E->n_T,
         E->n_T > 1 ? "s" : "", E->cps, E->cps > 1 ? "ies" : "y", E->lay->world_size,
         E->lay->world_size > 1 ? "s" : "", E->lay->n_groups, E->lay->n_groups > 1 ? "s" : "",
         E->lay->group_size);
  for (int k = 0; k < cfg->dim; k++) printf("%s%d", k ? "x" : " ", E->lay->procs[k]);
  printf(" (x first), block");
  for (int k = 0; k < cfg->dim; k++) printf("%s%lld", k ? "x" : " ", (long long)n[k]);
  printf(", %.3f bytes/site with halos; %s, kernel %s, rng %s, T", (double)ising_lattice_bytes(lat) / (double)(n[0] * n[1] * n[2]),
         ising_algorithm_name(cfg->algorithm), E->sw->ops->path(), ising_rng_alg_name(cfg->rng));
  if (E->n_T == 1)
    printf("=%g", cfg->temps[0]);
  else
    printf(" %g..%g (%s%s)", cfg->temps[0], cfg->temps[E->n_T - 1],
           cfg->adapt == ISING_ADAPT_FEEDBACK ? "feedback-adapted, " : "",
           cfg->ladder == ISING_LADDER_GEOMETRIC ? "geometric" : cfg->ladder == ISING_LADDER_LINEAR ? "linear" : "list");
  printf(", %lld+%lld sweeps -> %s\n", (long long)cfg->thermalization, (long long)cfg->sweeps, cfg->file);
  if (cfg->disorder) {
    static const char *const ck[] = {"uniform", "bimodal", "gaussian"}, *const fk[] = {"none", "bimodal", "gaussian"};
    if (cfg->dis_file[0])
      printf("ising: disorder: couplings%s of %d sample%s from %s", E->fields ? " and fields" : "",
             E->samples, E->samples > 1 ? "s" : "", cfg->dis_file);
    else
      printf("ising: disorder: couplings %s, bond dilution %g, fields %s (strength %g), seed %llu",
             ck[cfg->dis_couplings], cfg->bond_dilution, fk[cfg->dis_fields], cfg->field_strength,
             (unsigned long long)cfg->dis_seed);
    printf("; overlaps %s\n", E->pairs ? "between every pair of copies" : "not measured");
  }
  const int B = E->needs.block, sets = (E->R + B - 1) / B;
  if (B > 1 && E->R < sets * B)
    printf("ising: note: kernel %s sweeps %d lanes in %d set%s of %d; %d carry replicas, "
           "%d are idle at about the same cost (raise [montecarlo] copies to use them)\n",
           ising_config_backend(cfg), sets * B, sets, sets > 1 ? "s" : "", B, E->R, sets * B - E->R);
  fflush(stdout);
}

void engine_print_progress(int64_t step, int64_t from, int64_t total, int thermalising,
                           double elapsed, double rate) {
  char el[32], eta[32];
  format_duration(elapsed, el, sizeof el);
  format_duration(elapsed / (double)(step - from) * (double)(total - step), eta, sizeof eta);
  printf("ising: sweep %lld/%lld (%.1f%%)%s, %.3f flips/ns, elapsed %s, ETA %s\n",
         (long long)step, (long long)total, 100.0 * (double)step / (double)total,
         thermalising ? " thermalising" : "", rate, el, eta);
  fflush(stdout);
}

static void print_row(const char *name, double v, double err, const char *ref1, double r1,
                      const char *ref2, double r2) {
  printf("  %-6s ", name);
  print_value(14, 8, v, 12, 8, err);
  if (ref1 && isfinite(r1)) {
    printf("  %s %.8f", ref1, r1);
    print_sigma(v, r1, err);
  }
  if (ref2 && isfinite(r2)) printf("  %s %.8f", ref2, r2);
  printf("\n");
}

static void print_summary(const ising_config *cfg, const ising_run_result *r) {
  const ising_summary *s = &r->summary;
  printf("\nsummary: %dD", cfg->dim);
  for (int k = 0; k < cfg->dim; k++) printf("%s%lld", k ? "x" : " L=", (long long)cfg->L[k]);
  printf(", T=%g, J=%g, H=%g, %lld measurements, bins of %lld, tau_int(e)=%.1f tau_int(|m|)=%.1f"
         " (in measurements)\n",
         r->T[0], cfg->J, cfg->H, (long long)s->n, (long long)s->bin_size, s->tau_e, s->tau_m_abs);
  const ising_exact_obs *fin = r->have_enum ? &r->enumeration : r->have_kaufman ? &r->kaufman : NULL;
  const char *fn = r->have_enum ? "exact(enum)" : "exact(L)";
  const ising_exact_obs *inf = r->have_onsager ? &r->onsager : NULL;
  print_row("e", s->e, s->e_err, fin ? fn : NULL, fin ? fin->e : NAN, inf ? "L=inf" : NULL, inf ? inf->e : NAN);
  print_row("|m|", s->m_abs, s->m_abs_err, r->have_enum ? fn : NULL, r->have_enum ? fin->m_abs : NAN,
            inf ? "L=inf" : NULL, inf ? inf->m_abs : NAN);
  print_row("m^2", s->m2, s->m2_err, r->have_enum ? fn : NULL, r->have_enum ? fin->m2 : NAN, NULL, NAN);
  print_row("c", s->c, s->c_err, fin ? fn : NULL, fin ? fin->c : NAN, inf ? "L=inf" : NULL, inf ? inf->c : NAN);
  print_row("chi", s->chi, s->chi_err, r->have_enum ? fn : NULL, r->have_enum ? fin->chi : NAN, NULL, NAN);
  print_row("chi'", s->chi_p, s->chi_p_err, r->have_enum ? fn : NULL, r->have_enum ? fin->chi_p : NAN, NULL, NAN);
  if (isfinite(s->chi_p_improved)) /* a cluster algorithm at H = 0 */
    print_row("chi'cl", s->chi_p_improved, s->chi_p_improved_err, r->have_enum ? fn : NULL,
              r->have_enum ? fin->chi_p : NAN, NULL, NAN);
  print_row("U4", s->U4, s->U4_err, r->have_enum ? fn : NULL, r->have_enum ? fin->U4 : NAN, NULL, NAN);
  if (isfinite(s->xi)) {
    print_row("xi", s->xi, s->xi_err, NULL, NAN, NULL, NAN);
    print_row("xi/L", s->xi / (double)cfg->L[0], s->xi_err / (double)cfg->L[0], NULL, NAN, NULL, NAN);
  }
  if (isfinite(s->cluster_mean_size))
    printf("  clusters: mean size %.4g, the largest %.4g of the sites on average\n",
           s->cluster_mean_size, s->cluster_largest);
  if (!s->converged)
    printf("  warning: the binning analysis did not reach a plateau: the run is too short for "
           "its autocorrelation time, error bars are underestimated\n");
  printf("  %.3f flips/ns in total over %.1f s\n", r->flips_per_ns, r->wall_seconds);
  fflush(stdout);
}

static void print_ladder_table(const engine *E, const engine_refs *ref, const ising_run_result *r) {
  const ising_config *cfg = E->cfg;
  printf("\nsummary: %dD", cfg->dim);
  for (int k = 0; k < cfg->dim; k++) printf("%s%lld", k ? "x" : " L=", (long long)cfg->L[k]);
  printf(", J=%g, H=%g, %d temperatures x %d cop%s, %lld measurements each\n", cfg->J, cfg->H,
         E->n_T, E->copies, E->copies > 1 ? "ies" : "y", (long long)r->summaries[0].n);
  int kauf = cfg->dim == 2 && cfg->H == 0.0;
  printf("  %-9s %-24s %-22s %-22s %-22s %-20s%s\n", "T", "e", "|m|", "c", "chi", "U4",
         kauf ? "  exact e, c (L)" : "");
  for (int t = 0; t < E->n_T; t++) {
    const ising_summary *s = &r->summaries[t];
    const engine_ref *x = &ref->at[t];
    printf("  %-9.5f ", E->temper->T[t]);
    print_value(11, 7, s->e, 9, 7, s->e_err);
    printf(" ");
    print_value(9, 6, s->m_abs, 9, 6, s->m_abs_err);
    printf(" ");
    print_value(9, 5, s->c, 9, 5, s->c_err);
    printf(" ");
    print_value(9, 4, s->chi, 9, 4, s->chi_err);
    printf(" ");
    print_value(8, 5, s->U4, 8, 5, s->U4_err);
    if (x->have_kaufman) {
      printf("  %.7f", x->kaufman.e);
      print_sigma(s->e, x->kaufman.e, s->e_err);
      printf(" %.5f", x->kaufman.c);
      print_sigma(s->c, x->kaufman.c, s->c_err);
    }
    if (isfinite(s->xi)) {
      printf("  xi/L ");
      print_value(0, 4, s->xi / (double)cfg->L[0], 0, 4, s->xi_err / (double)cfg->L[0]);
    }
    printf("%s\n", s->converged ? "" : "  [no plateau]");
  }
  if (E->n_T >= 2) {
    printf("  exchange acceptance of pairs (T_i, T_i+1):");
    for (int i = 0; i + 1 < E->n_T; i++)
      printf(" %.3f", E->temper->attempts[i] ? (double)E->temper->accepts[i] / (double)E->temper->attempts[i] : 0.0);
    int64_t trips = 0;
    for (int q = 0; q < E->R; q++) trips += E->temper->round_trips[q];
    printf("\n  round trips: %lld in all, %.3g per replica per 1000 sweeps\n", (long long)trips,
           1000.0 * (double)trips / E->R / (double)cfg->sweeps);
  }
  if (ref->have_ti) {
    const ising_ti_point *p = ref->ti;
    printf("  free energy by thermodynamic integration (f_exact: Kaufman, f_Bethe, f_GBF: baselines):\n");
    for (int t = 0; t < E->n_T; t++) {
      const engine_ref *x = &ref->at[t];
      printf("    T %-9.5f f ", E->temper->T[t]);
      print_value(0, 6, p[t].f, 0, 6, p[t].f_err);
      printf("  s ");
      print_value(0, 6, p[t].s, 0, 6, p[t].s_err);
      if (x->have_kaufman) {
        printf("  f_exact %.6f", x->kaufman.f);
        print_sigma(p[t].f, x->kaufman.f, p[t].f_err);
      }
      if (x->have_baseline) printf("  f_Bethe %.6f  f_GBF %.6f", x->baseline.bethe.f, x->baseline.gbf.f);
      printf("\n");
    }
  } else if (E->n_T >= 2) {
    printf("  free energy: not computed (%s)\n", ref->why);
  }
  printf("  %.3f flips/ns in total over %.1f s\n", r->flips_per_ns, r->wall_seconds);
  fflush(stdout);
}

void engine_print_results(const engine *E, const engine_refs *ref, const ising_run_result *res) {
  if (E->n_T == 1)
    print_summary(E->cfg, res);
  else
    print_ladder_table(E, ref, res);
}
