/*
 * The budget report, in words and as a picture. Both show the same terms budget.c computed;
 * nothing is recomputed here except sums for layout and the KV cache a role's configured
 * context needs (kv_bytes_per_token x max_model_len, one sequence).
 */
#include "emit_report.h"

#include <string.h>

#include "emit_common.h"
#include "plan_together.h"
#include "planparams.h"
#include "size.h"
#include "utf8.h"

static const char *
quant(const struct plan_role *r)
{
	return r->role->quantization ? r->role->quantization : "none";
}

static const char *
kv_dtype(const struct plan_role *r)
{
	if (r->kv_cache_dtype)
		return r->kv_cache_dtype;
	return r->role->kv_cache_dtype ? r->role->kv_cache_dtype : "auto";
}

/* One table row: label, GiB, exact bytes (or a count), and a note. */
static void
row(FILE *f, const char *label, const char *gib, unsigned long long exact, const char *note)
{
	fprintf(f, "  %-22s %9s %15llu  %s\n", label, gib, exact, note ? note : "");
}

static void
gib_row(FILE *f, const char *label, uint64_t bytes, const char *note)
{
	char g[EMIT_NUM_MAX];
	snprintf(g, sizeof g, "%.2f", size_gib(bytes));
	row(f, label, g, (unsigned long long)bytes, note);
}

/*
 * What makes an unverified role verified: the lock's missing facts come from 'modelc lock ROLE'
 * on a machine that reaches the Hub; an estimated GPU profile from gpu.memory.
 */
const char *
emit_margin_note(char *buf, size_t n, const struct budget_result *b)
{
	char extra[96] = "";
	if (b->evidence_gaps)
		snprintf(extra, sizeof extra, " + %.1f%% of the KV cache (outside the calibrated evidence)",
		    100 * b->evidence_spread);
	snprintf(buf, n, "%s%s: KV cache that max_model_len leaves unused", b->margin_source == BUDGET_EXACT ?
	    "gpu.safety_margin" : "the default margin (no gpu.safety_margin)", extra);
	return buf;
}

static void
verify_hint(FILE *f, const struct plan *p, const struct plan_role *r)
{
	if (r->verified || !r->nunverified)
		return;
	int gpu = p->catalog->gpu_total_estimated;
	const char *label = "to verify";
	if (r->role->repo && r->nunverified > (gpu ? 1u : 0u)) {
		fprintf(f, "  %-22s %9s %15s  run 'modelc lock ", label, "", "");
		emit_line_text(f, r->role->name);
		fputs("' on a machine that reaches the Hugging Face Hub\n", f);
		label = "";
	}
	if (gpu)
		fprintf(f, "  %-22s %9s %15s  %s\n", label, "", "", plan_gpu_advice());
}

static void
txt_role(FILE *f, const struct plan *p, const struct plan_role *r)
{
	const struct budget_result *b = &r->result;
	char note[320];

	fputs("role ", f);
	emit_line_text(f, r->role->name);
	fputs(": ", f);
	if (r->role->repo) {
		emit_line_text(f, r->role->repo);
		fputs(r->lock && r->lock->commit ? " at " : " revision ", f);
		emit_line_text(f, r->lock && r->lock->commit ? r->lock->commit :
		    (r->role->revision ? r->role->revision : "main"));
	} else {
		fputs("local ", f);
		emit_line_text(f, r->local_dir ? r->local_dir : (r->role->local ? r->role->local : "?"));
	}
	fprintf(f, " (quantization %s, KV cache dtype %s)\n", quant(r), kv_dtype(r));
	if (!emit_budget_known(r)) {
		fprintf(f, "  %-22s %9s %15s  %s\n", "budget", "", "", "not computed: the facts it needs are missing");
		if (r->max_model_len)
			row(f, "max_model_len", "", (unsigned long long)r->max_model_len, "configured; not checked");
		goto verdict;
	}
	fprintf(f, "  %-22s %9s %15s  %s\n", "term", "GiB", "bytes", "how");
	gib_row(f, "weights", b->weights_bytes, emit_source_name(b->weights_source));
	snprintf(note, sizeof note, "formula (%s)", emit_size(b->kv_bytes_per_token).s);
	row(f, "KV per token", "", (unsigned long long)b->kv_bytes_per_token, note);
	gib_row(f, "activation", b->activation_bytes, emit_source_name(b->activation_source));
	gib_row(f, "non-torch", b->non_torch_bytes, emit_source_name(b->non_torch_source));
	if (b->cuda_graph_sizes)
		snprintf(note, sizeof note, "%s, %u captured sizes up to %u%s",
		    emit_source_name(b->cuda_graph_source), (unsigned)b->cuda_graph_sizes,
		    (unsigned)b->cuda_graph_max_size, emit_graphs_inside_budget(r) ? "" : ", on top of the budget");
	else
		snprintf(note, sizeof note, "%s%s", emit_source_name(b->cuda_graph_source),
		    emit_graphs_inside_budget(r) ? "" : ", on top of the budget");
	gib_row(f, "CUDA graphs", b->cuda_graph_bytes, note);
	if (b->cuda_context_bytes)
		gib_row(f, "CUDA context", b->cuda_context_bytes,
		    "outside the budget; counts against free memory at start (estimated: it varies with GPU, driver and CUDA)");
	gib_row(f, "safety margin", b->safety_margin_bytes, emit_margin_note(note, sizeof note, b));
	snprintf(note, sizeof note, "CUDA total %s x utilization %s%s", emit_gib(p->catalog->gpu_total_bytes).s,
	    emit_util(b->utilization).s, b->utilization_reason == BUDGET_LOWERED_PEAK ?
	    " (lowered: CUDA context and graphs)" : b->utilization_lowered ?
	    " (lowered: memory in use and the CUDA context)" : "");
	gib_row(f, "budget", b->budget_bytes, note);
	if (b->utilization_lowered) {
		budget_lowering_text(b, note, sizeof note);
		fprintf(f, "  %-22s %9s %15s  %s\n", "", "", "", note);
	}
	snprintf(note, sizeof note, "in use + CUDA context + budget%s; %s CUDA total %s",
	    emit_graphs_inside_budget(r) ? "" : " + CUDA graphs",
	    b->peak_bytes <= p->catalog->gpu_total_bytes ? "within" : "OVER", emit_gib(p->catalog->gpu_total_bytes).s);
	if (b->peak_bytes)
		gib_row(f, "physical peak", b->peak_bytes, note);
	snprintf(note, sizeof note, "what vLLM allocates; %s after the margin", emit_gib(emit_kv_after_margin(r)).s);
	gib_row(f, "KV cache", b->kv_cache_bytes, note);
	snprintf(note, sizeof note, "one request of %u tokens", (unsigned)r->max_model_len);
	gib_row(f, "KV at max_model_len", emit_kv_at_len(r), note);
	row(f, "KV tokens", "", (unsigned long long)b->kv_tokens, "tokens that fit in the KV cache");
	uint32_t cap = r->arch.max_position_embeddings;
	if (r->role->max_model_len_auto && cap && r->max_model_len == cap && r->max_model_len_memory > cap)
		snprintf(note, sizeof note, r->max_model_len_memory >= PLANPARAMS_UNCAPPED
		    ? "auto; the model's limit decides (max_position_embeddings %u; memory would allow any length: "
		      "the sliding window bounds the KV cache)"
		    : "auto; the model's limit decides (max_position_embeddings %u; memory would allow %u)",
		    (unsigned)cap, (unsigned)r->max_model_len_memory);
	else if (r->role->max_model_len_auto)
		snprintf(note, sizeof note, "auto; memory decides: the largest that fits is %u%s",
		    (unsigned)b->max_model_len_fit, cap ? "" : " (the model's limit is unknown)");
	else
		snprintf(note, sizeof note, "configured; the largest that fits is %u", (unsigned)b->max_model_len_fit);
	row(f, "max_model_len", "", (unsigned long long)r->max_model_len, note);
	fprintf(f, "  %-22s %9s %15s  %u, max_num_batched_tokens %u, %s\n", "max_num_seqs", "", "",
	    (unsigned)b->max_num_seqs, (unsigned)b->max_num_batched_tokens,
	    r->params.enforce_eager ? "enforce_eager (no CUDA graphs)" : "CUDA graphs captured");
verdict:
	fprintf(f, "  %-22s %9s %15s  %s", "verdict", "", "", emit_verdict(r));
	if (!r->verified && r->nunverified) {
		fputs(" (missing ", f);
		for (size_t i = 0; i < r->nunverified; i++) {
			if (i)
				fputs(", ", f);
			emit_line_text(f, r->unverified[i]);
		}
		fputc(')', f);
	}
	fputc('\n', f);
	verify_hint(f, p, r);
	if (r->role->repo) {
		if (!r->nfiles && !r->download_bytes_complete) {
			fprintf(f, "  %-22s %9s %15s  %s\n", "download", "?", "?",
			    "file list unknown (modelc lock records it)");
		} else {
			snprintf(note, sizeof note, "%zu file%s%s", r->nfiles, r->nfiles == 1 ? "" : "s",
			    r->download_bytes_complete ? "" : ", some sizes unknown: at least this");
			gib_row(f, "download", r->download_bytes, note);
		}
	} else {
		fprintf(f, "  %-22s %9s %15s  %s\n", "download", "", "", "nothing (local-only role)");
	}
	if (r->measured_ttft_ms >= 0) {
		fprintf(f, "  %-22s %9s %15s  %.0f ms at %u tokens", "measured TTFT", "", "",
		    r->measured_ttft_ms, (unsigned)r->max_model_len);
		if (r->role->ttft_threshold_ms > 0)
			fprintf(f, " (threshold %.0f ms%s)", r->role->ttft_threshold_ms,
			    r->measured_ttft_ms > r->role->ttft_threshold_ms ? ", exceeded" : "");
		fputc('\n', f);
	}
}

static int
all_sizes_known(const struct plan *p)
{
	for (size_t i = 0; i < p->nroles; i++)
		if (p->roles[i].role->repo && !p->roles[i].download_bytes_complete)
			return 0;
	return 1;
}

int
emit_budget_txt(FILE *f, const struct plan *p)
{
	const struct catalog *c = p->catalog;

	fprintf(f, "# generated from %s by modelc; do not edit\n", emit_catalog_name(p).s);
	fputs("VRAM budget per role (GiB = 2^30 bytes; formulas and sources in docs/budget.md)\n\n", f);
	fputs("gpu: ", f);
	emit_line_text(f, c->gpu_profile ? c->gpu_profile : "explicit memory");
	fprintf(f, ", CUDA total %s (%llu bytes%s), in use by other processes %s, utilization %s\n",
	    emit_gib(c->gpu_total_bytes).s, (unsigned long long)c->gpu_total_bytes,
	    c->gpu_total_estimated ? ", the profile's estimate from the card's nominal size"
	    : c->gpu_memory_given ? (c->gpu_profile ? ", gpu.memory, over the profile's number" : ", gpu.memory")
	    : ", the profile's measured total", emit_gib(c->gpu_used_bytes).s,
	    emit_util(c->gpu_memory_utilization).s);
	fprintf(f, "server: vLLM engine %s, %s; memory rules of generation %s (%s)\n",
	    emit_engine_name(c->engine), c->enforce_eager ? "enforce_eager" : "CUDA graphs captured",
	    budget_generation_rule(c->generation)->name, c->vllm_version ? c->vllm_version :
	    "the default, the newest modelled");
	for (size_t i = 0; i < p->nroles; i++) {
		fputc('\n', f);
		txt_role(f, p, &p->roles[i]);
	}
	/* Each group as modelc explain prints it; a pair that does not fit is listed as such. */
	for (size_t i = 0; i < p->ngroups; i++) {
		fputc('\n', f);
		plan_together_describe(f, p, &p->groups[i]);
	}
	fputc('\n', f);
	int known = all_sizes_known(p);
	const char *least = known ? "" : "at least ";
	if (c->disk_budget_bytes)
		fprintf(f, "disk: downloads of all roles %s%s (%llu bytes) against the disk budget %s "
		    "(%llu bytes): %s\n", least, emit_gib(p->download_bytes).s,
		    (unsigned long long)p->download_bytes, emit_gib(c->disk_budget_bytes).s,
		    (unsigned long long)c->disk_budget_bytes,
		    p->download_bytes > c->disk_budget_bytes ? "over" : known ? "within" : "within so far");
	else
		fprintf(f, "disk: downloads of all roles %s%s (%llu bytes); no disk budget set\n", least,
		    emit_gib(p->download_bytes).s, (unsigned long long)p->download_bytes);
	if (!known) {
		fputs("disk: download sizes not known for", f);
		const char *sep = " ";
		for (size_t i = 0; i < p->nroles; i++)
			if (p->roles[i].role->repo && !p->roles[i].download_bytes_complete) {
				fputs(sep, f);
				emit_line_text(f, p->roles[i].role->name);
				sep = ", ";
			}
		fputs(" (modelc lock records them on a machine that reaches the Hugging Face Hub)\n", f);
	}
	return ferror(f) ? -1 : 0;
}

/* SVG */

enum {
	SVG_CHART_W = 640, SVG_ROW_H = 34, SVG_BAR_H = 22, SVG_TOP = 70, SVG_RIGHT_W = 300,
	SVG_CHAR_W = 7, SVG_MIN_LABEL_W = 44, SVG_NSEG = 9, SVG_MIN_SEG_W = 3,
};

struct svg_seg {
	const char *name;
	const char *fill;
	const char *text;
};

/* Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. */
enum { SEG_WEIGHTS, SEG_ACT, SEG_NONTORCH, SEG_MARGIN, SEG_KV, SEG_FREE, SEG_GRAPHS, SEG_USED, SEG_CONTEXT };
static const struct svg_seg segs[SVG_NSEG] = {
	{"weights", "#0072B2", "#ffffff"},
	{"activation", "#E69F00", "#000000"},
	{"non-torch", "#CC79A7", "#000000"},
	{"safety margin", "#999999", "#000000"},
	{"KV cache at max_model_len", "#009E73", "#ffffff"},
	{"free in budget", "#f2f2f2", "#000000"},
	{"CUDA graphs", "#56B4E9", "#000000"},
	{"in use by other processes", "#555555", "#ffffff"},
	{"CUDA context (outside the budget)", "#F0E442", "#000000"},
};

/* Text content or attribute value: XML-escaped, valid UTF-8, no characters XML 1.0 forbids. */
static void
xml_text(FILE *f, const char *s)
{
	while (*s) {
		unsigned cp;
		size_t n = utf8_decode(s, strnlen(s, UTF8_MAX_LEN), &cp);
		if (n == 0) {
			fputc('?', f);
			s++;
			continue;
		}
		if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')
			fputs("&gt;", f);
		else if (cp == '"')
			fputs("&quot;", f);
		else if (cp == '\'')
			fputs("&apos;", f);
		else if (cp < 0x20 || cp == 0x7f || cp == 0xfffe || cp == 0xffff)
			fputc(' ', f);
		else
			fwrite(s, 1, n, f);
		s += n;
	}
}

/*
 * The bar of one role, left to right: what the budget holds (ending at the budget line when
 * nothing is left over), then CUDA graphs, which vLLM captures on top of the budget unless
 * budget.c counted them inside it. order[] gives the drawing order of segs[].
 */
static void
seg_values(const struct plan_role *r, uint64_t v[SVG_NSEG], int order[SVG_NSEG])
{
	const struct budget_result *b = &r->result;
	int inside = emit_graphs_inside_budget(r);
	v[SEG_WEIGHTS] = b->weights_bytes;
	v[SEG_ACT] = b->activation_bytes;
	v[SEG_NONTORCH] = b->non_torch_bytes;
	v[SEG_MARGIN] = b->safety_margin_bytes;
	v[SEG_KV] = emit_kv_at_len(r);
	v[SEG_GRAPHS] = b->cuda_graph_bytes;
	v[SEG_USED] = b->gpu_used_bytes;
	v[SEG_CONTEXT] = b->cuda_context_bytes;
	uint64_t used = 0;
	for (int i = SEG_WEIGHTS; i <= SEG_KV; i++)
		used = used + v[i] < used ? UINT64_MAX : used + v[i];
	if (inside)
		used = used + v[SEG_GRAPHS] < used ? UINT64_MAX : used + v[SEG_GRAPHS];
	v[SEG_FREE] = b->budget_bytes > used ? b->budget_bytes - used : 0;
	int n = 0;
	/* As the GPU holds it: others' memory and the CUDA context first, so the bar ends at the physical peak. */
	order[n++] = SEG_USED;
	order[n++] = SEG_CONTEXT;
	order[n++] = SEG_WEIGHTS;
	order[n++] = SEG_ACT;
	order[n++] = SEG_NONTORCH;
	if (inside)
		order[n++] = SEG_GRAPHS;
	order[n++] = SEG_MARGIN;
	order[n++] = SEG_KV;
	order[n++] = SEG_FREE;
	if (!inside)
		order[n++] = SEG_GRAPHS;
}


/* Axis step in GiB: 0.25, 0.5, 1, 2, 4, ... so that at most 12 ticks fit. */
static double
tick_step(double max_gib)
{
	double step = 0.25;
	while (max_gib / step > 12)
		step *= 2;
	return step;
}

int
emit_budget_svg(FILE *f, const struct plan *p)
{
	const struct catalog *c = p->catalog;
	size_t namelen = 4;
	uint64_t max = c->gpu_total_bytes;
	int same_budget = 1, any_known = 0;
	uint64_t common_budget = 0, common_offset = 0;

	for (size_t i = 0; i < p->nroles; i++) {
		const struct plan_role *r = &p->roles[i];
		uint64_t v[SVG_NSEG], sum = 0;
		int order[SVG_NSEG];
		seg_values(r, v, order);
		for (int k = 0; k < SVG_NSEG; k++)
			sum = sum + v[k] < sum ? UINT64_MAX : sum + v[k];
		if (sum > max)
			max = sum;
		if (r->result.budget_bytes > max)
			max = r->result.budget_bytes;
		if (strlen(r->role->name) > namelen)
			namelen = strlen(r->role->name);
		if (!emit_budget_known(r))
			continue;
		uint64_t offset = r->result.gpu_used_bytes + r->result.cuda_context_bytes;
		if (any_known && (r->result.budget_bytes != common_budget || offset != common_offset))
			same_budget = 0;
		any_known = 1;
		common_budget = r->result.budget_bytes;
		common_offset = offset;
	}
	if (max == 0)
		max = 1;
	double left = 16.0 + SVG_CHAR_W * (double)namelen + 8.0;
	double width = left + SVG_CHART_W + SVG_RIGHT_W;
	size_t nrows = p->nroles ? p->nroles : 1;
	double chart_bottom = SVG_TOP + SVG_ROW_H * (double)nrows;
	double height = chart_bottom + 40 + 22 * 4 + 30;
	double scale = SVG_CHART_W / (double)max;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	    "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
	    width, height, width, height);
	fprintf(f, "<title>VRAM budget per role</title>\n<desc>generated from %s by modelc; do not edit</desc>\n",
	    emit_catalog_name(p).s);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", width, height);
	fputs("<text x=\"16\" y=\"22\" font-size=\"15\" font-weight=\"bold\">VRAM per role on ", f);
	xml_text(f, c->gpu_profile ? c->gpu_profile : "the configured GPU");
	fprintf(f, " (CUDA total %s); bars at each role&apos;s max_model_len</text>\n",
	    emit_gib(c->gpu_total_bytes).s);

	/* axis ticks and grid */
	double step = tick_step(size_gib(max));
	for (double t = 0; t <= size_gib(max) + 1e-9; t += step) {
		double x = left + t * (double)SIZE_GIB * scale;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n",
		    x, SVG_TOP - 6, x, chart_bottom);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#444444\">%g</text>\n",
		    x, chart_bottom + 16, t);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"start\" fill=\"#444444\">GiB</text>\n",
	    left, chart_bottom + 32);
	if (p->nroles == 0)
		fprintf(f, "<text x=\"%.1f\" y=\"%d\">the catalog has no roles</text>\n", left, SVG_TOP + 20);

	for (size_t i = 0; i < p->nroles; i++) {
		const struct plan_role *r = &p->roles[i];
		uint64_t v[SVG_NSEG];
		int order[SVG_NSEG];
		double y = SVG_TOP + SVG_ROW_H * (double)i + (SVG_ROW_H - SVG_BAR_H) / 2.0;
		double x = left;
		seg_values(r, v, order);
		fprintf(f, "<g>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-weight=\"bold\">",
		    left - 8, y + SVG_BAR_H / 2.0 + 4);
		xml_text(f, r->role->name);
		fputs("</text>\n", f);
		/* A small term (non-torch is a few MiB) gets SVG_MIN_SEG_W pixels, taken from the free part. */
		double extra = 0;
		for (int j = 0; j < SVG_NSEG; j++)
			if (v[order[j]] && order[j] != SEG_FREE && (double)v[order[j]] * scale < SVG_MIN_SEG_W)
				extra += SVG_MIN_SEG_W - (double)v[order[j]] * scale;
		for (int j = 0; j < SVG_NSEG; j++) {
			int k = order[j];
			double w = (double)v[k] * scale;
			if (v[k] == 0)
				continue;
			if (k != SEG_FREE && w < SVG_MIN_SEG_W)
				w = SVG_MIN_SEG_W;
			else if (k == SEG_FREE)
				w = w > extra ? w - extra : 0.5;
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"%s>"
			    "<title>%s %s</title></rect>\n", x, y, w, SVG_BAR_H, segs[k].fill,
			    k == SEG_FREE ? " stroke=\"#999999\"" : "", segs[k].name, emit_gib(v[k]).s);
			if (w >= SVG_MIN_LABEL_W)
				fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"%s\">%.2f</text>\n",
				    x + w / 2, y + SVG_BAR_H / 2.0 + 4, segs[k].text, size_gib(v[k]));
			x += w;
		}
		if (!same_budget && emit_budget_known(r)) {
			double bx = left + (double)(v[SEG_USED] + v[SEG_CONTEXT] + r->result.budget_bytes) * scale;
			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#D55E00\" "
			    "stroke-width=\"2\"/>\n", bx, y - 5, bx, y + SVG_BAR_H + 5);
		}
		if (!emit_budget_known(r)) {
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#8a5a00\">no bar: ", left + 10, y + SVG_BAR_H / 2.0 + 4);
			fputs("not computed, missing ", f);
			xml_text(f, r->nunverified ? r->unverified[0] : "the architecture or the weight size");
			fputs(" (budget.txt lists all)", f);
			fputs("</text>\n</g>\n", f);
			continue;
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%s: %u tokens (up to %u fit); peak %s</text>\n</g>\n",
		    left + SVG_CHART_W + 10, y + SVG_BAR_H / 2.0 + 4,
		    r->result.fits ? (r->verified ? "#000000" : "#8a5a00") : "#D55E00",
		    emit_verdict(r), (unsigned)r->max_model_len, (unsigned)r->result.max_model_len_fit,
		    emit_gib(r->result.peak_bytes).s);
	}

	/* the budget line (one when all roles share it) and the GPU total line */
	if (any_known && same_budget) {
		double bx = left + (double)(common_offset + common_budget) * scale;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#D55E00\" "
		    "stroke-width=\"2\"/>\n", bx, SVG_TOP - 8, bx, chart_bottom);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" fill=\"#D55E00\">budget %s</text>\n",
		    bx - 3, SVG_TOP - 10, emit_gib(common_budget).s);
	}
	double tx = left + (double)c->gpu_total_bytes * scale;
	fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000000\" "
	    "stroke-width=\"1.5\" stroke-dasharray=\"5,3\"/>\n", tx, SVG_TOP - 26, tx, chart_bottom);
	fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\">GPU total %s</text>\n", tx - 3,
	    SVG_TOP - 28, emit_gib(c->gpu_total_bytes).s);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-weight=\"bold\">%.2f</text>\n", tx,
	    chart_bottom + 30, size_gib(c->gpu_total_bytes));

	/* legend: segments in two columns of four rows, then the lines */
	double ly = chart_bottom + 48;
	for (int k = 0; k < SVG_NSEG + 2; k++) {
		double lx = 16 + (k / 4) * 230.0, yy = ly + (k % 4) * 22.0;
		if (k < SVG_NSEG)
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"14\" fill=\"%s\" "
			    "stroke=\"#999999\"/>\n<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
			    lx, yy - 11, segs[k].fill, lx + 20, yy, k == SEG_GRAPHS && p->nroles &&
			    !emit_graphs_inside_budget(&p->roles[0]) ? "CUDA graphs (on top of the budget)" :
			    segs[k].name);
		else
			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			    "stroke-width=\"2\"%s/>\n<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
			    lx + 7, yy - 12, lx + 7, yy + 3, k == SVG_NSEG ? "#D55E00" : "#000000",
			    k == SVG_NSEG ? "" : " stroke-dasharray=\"5,3\"", lx + 20, yy,
			    k == SVG_NSEG ? "budget (CUDA total x utilization)" : "GPU total (CUDA)");
	}
	fprintf(f, "<text x=\"16\" y=\"%.1f\" fill=\"#444444\">A bar is the GPU as vLLM fills it: memory in use, "
	    "the CUDA context, the budget, then CUDA graphs; it ends at the physical peak. Terms under %d px are "
	    "drawn %d px wide.</text>\n", ly + 4 * 22.0 + 6, SVG_MIN_SEG_W, SVG_MIN_SEG_W);
	fputs("</svg>\n", f);
	return ferror(f) ? -1 : 0;
}
