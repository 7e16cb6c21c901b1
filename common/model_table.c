/*
 * The runtime table's reader: every check happens once, in model_table_parse, so the
 * accessors only decode. The file may come from anywhere (a stale build, a copy cut short, a
 * stranger), so nothing is trusted: each count, offset and length is checked against the
 * bytes there are, in 64-bit arithmetic so that no sum can wrap; each string is checked to lie
 * in the pool, NUL-terminated, and paths and commits to be what they claim, since switch builds
 * paths from them; and every number the budget arithmetic uses is bounded so that it cannot
 * overflow. One table per record type lists its fields, for the checks and the decoding alike,
 * and keeps this small: it is linked into switch, whose size is held under 64 KiB.
 */
#include "model_table.h"
#include "model_table_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

uint32_t
mt_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)mt_get32(p) | (uint64_t)mt_get32(p + 4) << 32;
}

static double
getf64(const unsigned char *p)
{
	uint64_t u = get64(p);
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

void
model_table_put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

void
model_table_put_u64(unsigned char *p, uint64_t v)
{
	model_table_put_u32(p, (uint32_t)v);
	model_table_put_u32(p + 4, (uint32_t)(v >> 32));
}

void
model_table_put_f64(unsigned char *p, double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof u);
	model_table_put_u64(p, u);
}

int
mt_bad(char *why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, MODEL_TABLE_WHY_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

/* The string at ref, or NULL; check_fields has checked it. */
const char *
mt_str_at(const struct model_table *t, const unsigned char *ref)
{
	uint32_t off = mt_get32(ref);
	return off == MODEL_TABLE_NO_STRING ? NULL : (const char *)t->sec[MT_SECTION_STRINGS].at + off;
}

#define E(m) (uint16_t)offsetof(struct model_entry, m)
#define T(m) (uint16_t)offsetof(struct model_table, m)
#define S(m) (uint16_t)offsetof(struct model_table_source, m)
#define DIM (1u << 16)
#define LEN MT_LEN

static const struct mt_field header_fields[] = {
	{MT_HDR_CATALOG_PATH, K_STR, T(catalog_path), 0},
	{MT_HDR_BUILD_TIME, K_U64, T(build_time), 0},
	{MT_HDR_BUILT, K_STR_REQ, T(built), 0},
	{MT_HDR_FLAGS, K_MASK, MT_NOWHERE, MT_HDR_F_DIGEST},
	{MT_HDR_FLAGS, K_BIT, T(have_digest), MT_HDR_F_DIGEST},
};

static const struct mt_field source_fields[] = {
	{MT_SRC_PATH, K_ABS, S(path), 0},
	{MT_SRC_SIZE, K_U64, S(size), 0},
	{MT_SRC_MTIME_SEC, K_U64, S(mtime_sec), 0},
	{MT_SRC_MTIME_NSEC, K_U32, S(mtime_nsec), 999999999},
	{MT_SRC_PRESENT, K_U32, MT_NOWHERE, 1},
};

static const struct mt_field settings_fields[] = {
	{MT_SET_GPU_PROFILE, K_STR, T(gpu_profile), 0},
	{MT_SET_HF_HOME, K_STR_REQ, T(hf_home), 0},
	{MT_SET_HUB_CACHE, K_STR_REQ, T(hub_cache), 0},
	{MT_SET_MODELS_DIR, K_STR, T(models_dir), 0},
	{MT_SET_HOST, K_STR_REQ, T(host), 0},
	{MT_SET_PRIMARY_ROLE, K_STR_REQ, T(primary_role), 0},
	{MT_SET_GPU_TOTAL, K_U64, T(gpu_total_bytes), 0},
	{MT_SET_GPU_USED, K_U64, T(gpu_used_bytes), 0},
	{MT_SET_UTILIZATION, K_UTIL, T(gpu_memory_utilization), 0},
	{MT_SET_DISK_BUDGET, K_U64, T(disk_budget_bytes), 0},
	{MT_SET_PORT, K_U32 | K_NONZERO, T(port), 65535},
	{MT_SET_ENGINE, K_U32, T(engine), BUDGET_ENGINE_V1},
	{MT_SET_CAL_FORWARD, K_F64, T(calibration.forward_factor), 100},
	{MT_SET_CAL_SAMPLER, K_F64, T(calibration.sampler_bytes_per_logit), 10000},
	{MT_SET_CAL_NON_TORCH, K_U64, T(calibration.non_torch_bytes), 1024},
	{MT_SET_CAL_NON_TORCH_TP, K_U64, T(calibration.non_torch_tp_bytes), 1024},
	{MT_SET_CAL_GRAPH, K_U64, T(calibration.cuda_graph_bytes), 1024},
	{MT_SET_CAL_GRAPH_UNIT, K_F64, T(calibration.cuda_graph_bytes_per_unit), 1000000},
	{MT_SET_CAL_GRAPH_SIZE, K_F64, T(calibration.cuda_graph_bytes_per_size), 1u << 31},
};

/* The bounds are well above any real model and server; they keep the budget's arithmetic exact. */
static const struct mt_field role_fields[] = {
	{MT_ROLE_NAME, K_STR_REQ, E(role), 0},
	{MT_ROLE_MODEL_ID, K_STR_REQ, E(model_id), 0},
	{MT_ROLE_REPO, K_STR, E(repo), 0},
	{MT_ROLE_REVISION, K_STR, E(revision), 0},
	{MT_ROLE_COMMIT, K_HEX40, E(commit), 0},
	{MT_ROLE_LOCAL_DIR, K_STR, E(local_dir), 0},
	{MT_ROLE_QUANTIZATION, K_STR_REQ, E(quantization), 0},
	{MT_ROLE_QUANTIZATION_FLAG, K_STR, E(quantization_flag), 0},
	{MT_ROLE_DTYPE, K_STR_REQ, E(dtype), 0},
	{MT_ROLE_KV_CACHE_DTYPE, K_STR_REQ, E(kv_cache_dtype), 0},
	{MT_ROLE_VERDICT, K_STR_REQ, E(verdict), 0},
	{MT_ROLE_FILES_FIRST, K_U32, E(files_first), LEN},
	{MT_ROLE_FILES_COUNT, K_U32, E(nfiles), LEN},
	{MT_ROLE_LOCAL_FIRST, K_U32, E(local_first), LEN},
	{MT_ROLE_LOCAL_COUNT, K_U32, E(nlocal), LEN},
	{MT_ROLE_TOTAL_BYTES, K_U64, E(total_bytes), 0},
	{MT_ROLE_MAX_MODEL_LEN, K_U32, E(max_model_len), LEN},
	{MT_ROLE_FLAGS, K_MASK, MT_NOWHERE, MT_ROLE_F_ALL},
	{MT_ROLE_FLAGS, K_BIT, E(budget_known), MT_ROLE_F_BUDGET},
	{MT_ROLE_FLAGS, K_BIT, E(params.enforce_eager), MT_ROLE_F_ENFORCE_EAGER},
	{MT_ROLE_FLAGS, K_BIT, E(params.safety_margin_set), MT_ROLE_F_MARGIN_SET},
	{MT_ROLE_FLAGS, K_BIT, E(params.keep_utilization), MT_ROLE_F_KEEP_UTILIZATION},
	{MT_ROLE_FLAGS, K_BIT, E(params.generation_set), MT_ROLE_F_GENERATION},
	{MT_ROLE_UTILIZATION, K_UTIL, E(gpu_memory_utilization), 0},
	{MT_ROLE_P_UTILIZATION, K_UTIL, E(params.utilization), 0},
	{MT_ROLE_P_MAX_MODEL_LEN, K_U32, E(params.max_model_len), LEN},
	{MT_ROLE_P_MAX_NUM_SEQS, K_U32, E(params.max_num_seqs), 1u << 20},
	{MT_ROLE_P_BATCHED, K_U32, E(params.max_num_batched_tokens), 1u << 24},
	{MT_ROLE_P_KV_DTYPE_BYTES, K_U32, E(params.kv_dtype_bytes), 4},
	{MT_ROLE_P_TENSOR_PARALLEL, K_U32 | K_NONZERO, E(params.tensor_parallel), 1024},
	{MT_ROLE_P_BLOCK_SIZE, K_U32 | K_NONZERO, E(params.block_size), 1024},
	{MT_ROLE_P_ENGINE, K_U32, MT_NOWHERE, BUDGET_ENGINE_V1},
	{MT_ROLE_P_WEIGHTS_SOURCE, K_U32, MT_NOWHERE, BUDGET_UNCALIBRATED},
	{MT_ROLE_P_WEIGHTS, K_U64, E(params.weights_bytes), 0},
	{MT_ROLE_P_MARGIN, K_U64, E(params.safety_margin_bytes), 0},
	{MT_ROLE_A_LAYERS, K_U32, E(arch.layers), DIM},
	{MT_ROLE_A_LAYERS + 4, K_U32, E(arch.attention_heads), DIM},
	{MT_ROLE_A_LAYERS + 8, K_U32, E(arch.kv_heads), DIM},
	{MT_ROLE_A_LAYERS + 12, K_U32, E(arch.head_dim), DIM},
	{MT_ROLE_A_LAYERS + 16, K_U32, E(arch.hidden_size), 1u << 20},
	{MT_ROLE_A_LAYERS + 20, K_U32, E(arch.intermediate_size), 1u << 22},
	{MT_ROLE_A_LAYERS + 24, K_U32, E(arch.vocab_size), 1u << 24},
	{MT_ROLE_A_LAYERS + 28, K_U32, E(arch.max_position_embeddings), LEN},
	{MT_ROLE_A_LAYERS + 32, K_U32, E(arch.sliding_window), LEN},
	{MT_ROLE_A_LAYERS + 36, K_U32, E(arch.sliding_layers), DIM},
	{MT_ROLE_A_LAYERS + 40, K_U32, E(arch.dtype_bytes), 4},
	{MT_ROLE_A_FLAGS, K_MASK, MT_NOWHERE, MT_ARCH_F_ALL},
	{MT_ROLE_A_FLAGS, K_BIT, E(arch.tie_word_embeddings), MT_ARCH_F_TIE},
	{MT_ROLE_A_FLAGS, K_BIT, E(arch.qkv_bias), MT_ARCH_F_QKV_BIAS},
	{MT_ROLE_A_FLAGS, K_BIT, E(arch.o_bias), MT_ARCH_F_O_BIAS},
	{MT_ROLE_A_FLAGS, K_BIT, E(arch.mlp_bias), MT_ARCH_F_MLP_BIAS},
	{MT_ROLE_A_FLAGS, K_BIT, E(arch.norm_bias), MT_ARCH_F_NORM_BIAS},
	{MT_ROLE_A_FLAGS, K_BIT, E(arch.mlp_ungated), MT_ARCH_F_MLP_UNGATED},
	{MT_ROLE_P_GENERATION, K_U32, E(params.generation), BUDGET_GEN_COUNT - 1},
	{MT_ROLE_P_SPREAD, K_U32, MT_NOWHERE, MT_SPREAD_MAX},
};

static const struct mt_field file_fields[] = {
	{MT_FILE_PATH, K_REL, offsetof(struct model_file, path), 0},
	{MT_FILE_SIZE, K_U64, offsetof(struct model_file, size), 0},
};

static const struct mt_field arg_fields[] = {
	{MT_ARG_STRING, K_STR_REQ, MT_NOWHERE, 0},
};

#define NFIELDS MT_NFIELDS

static int
relative_ok(const char *p)
{
	for (;;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!p[n])
			return 1;
		p += n + 1;
	}
}

static int
hex40(const char *s)
{
	size_t n = 0;
	while ((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f'))
		n++;
	return n == 40 && !s[n];
}

/* Check the record at rec; where and index name it in a message ("role 2"). */
int
mt_check_fields(const struct model_table *t, const unsigned char *rec, const struct mt_field *f, size_t n,
    const char *where, size_t index, char *why)
{
	const unsigned char *pool = t->sec[MT_SECTION_STRINGS].at;
	uint32_t pool_size = t->sec[MT_SECTION_STRINGS].count;

	for (; n--; f++) {
		const unsigned char *p = rec + f->at;
		int kind = f->kind & ~K_NONZERO;
		uint32_t v = mt_get32(p);
		double d = kind == K_F64 || kind == K_UTIL ? getf64(p) : 0;
		const char *s = NULL, *wrong = NULL;
		if (kind <= K_HEX40 && v != MODEL_TABLE_NO_STRING) {
			uint32_t len = mt_get32(p + 4);
			if ((uint64_t)v + len >= pool_size || pool[v + len] || memchr(pool + v, 0, len))
				wrong = "does not end inside the string pool";
			else
				s = (const char *)pool + v;
		}
		if (wrong)
			;
		else if (kind <= K_HEX40 && v == MODEL_TABLE_NO_STRING && mt_get32(p + 4))
			wrong = "is damaged";
		else if (kind == K_STR_REQ && (!s || !*s))
			wrong = "is missing";
		else if (s && ((kind == K_ABS && s[0] != '/') || (kind == K_REL && !relative_ok(s)) ||
		    (kind == K_HEX40 && !hex40(s))))
			wrong = "is not a path or commit switch may use";
		else if ((kind == K_U32 && (v > f->hi || (!v && (f->kind & K_NONZERO)))) ||
		    (kind == K_U64 && f->hi && get64(p) > f->hi * SIZE_GIB) ||
		    (kind == K_F64 && !(isfinite(d) && d >= 0 && d <= f->hi)) ||
		    (kind == K_UTIL && !(d > 0 && d <= 1)) || (kind == K_MASK && (v & ~f->hi)))
			wrong = "is out of range";
		if (wrong)
			return mt_bad(why, "%s %zu: the %s at byte %u %s", where, index, kind <= K_HEX40 ? "string" : "number",
			    (unsigned)f->at, wrong);
	}
	return 0;
}

/* The checked record at rec into the struct at out. */
void
mt_decode_fields(const struct model_table *t, const unsigned char *rec, const struct mt_field *f, size_t n,
    void *out)
{
	for (; n--; f++) {
		char *to = (char *)out + f->to;
		const unsigned char *p = rec + f->at;
		int kind = f->kind & ~K_NONZERO;
		uint32_t u = mt_get32(p);
		bool b = u & f->hi;
		if (f->to == MT_NOWHERE || kind == K_MASK)
			continue;
		if (kind <= K_HEX40) {
			const char *s = mt_str_at(t, p);
			memcpy(to, &s, sizeof s);
		} else if (kind == K_U32) {
			memcpy(to, &u, sizeof u);
		} else if (kind == K_BIT) {
			memcpy(to, &b, sizeof b);
		} else {
			/* u64, i64 and f64 alike: the same 8 bytes, the member's type gives the meaning. */
			uint64_t w = get64(p);
			memcpy(to, &w, sizeof w);
		}
	}
}

/* What the field tables cannot say of role i: its verdict, its files, a usable budget. */
static int
check_role(const struct model_table *t, size_t i, char *why)
{
	struct model_entry e;
	model_table_entry(t, i, &e);
	const struct budget_arch *a = &e.arch;
	if ((strcmp(e.verdict, "fits") && strcmp(e.verdict, "unverified")) ||
	    (uint64_t)e.files_first + e.nfiles > t->nfiles || (uint64_t)e.local_first + e.nlocal > t->nfiles ||
	    a->sliding_layers > a->layers || a->dtype_bytes == 3 || e.params.kv_dtype_bytes == 3 ||
	    (e.budget_known && (!a->layers || !a->attention_heads || !a->kv_heads || !a->head_dim ||
	    !e.max_model_len || !e.params.max_model_len || !e.params.weights_bytes)))
		return mt_bad(why, "role %zu ('%s'): its verdict, files or budget numbers do not hold together", i, e.role);
	return 0;
}

const unsigned char *
mt_record(const struct model_table *t, int type, size_t i)
{
	return t->sec[type].at + i * t->sec[type].size;
}

int
model_table_parse(const void *bytes, size_t size, struct model_table *t, char *why)
{
	static const uint8_t want[MT_SECTION_LAST + 1] = {
		0, MT_SET_SIZE, MT_ROLE_SIZE, MT_FILE_SIZE_OF, MT_ARG_SIZE_OF, 1,
		MT_GRP_SIZE, MT_GM_SIZE, MT_RS_SIZE, MT_ARG_SIZE_OF, MT_PL_SIZE, MT_RK_SIZE,
	};
	const unsigned char *b = bytes;

	memset(t, 0, sizeof *t);
	if (size < 8 || memcmp(b, MODEL_TABLE_MAGIC, 8) != 0)
		return mt_bad(why, "is not a runtime table (it does not start with " MODEL_TABLE_MAGIC ")");
	if (size < MT_HDR_SIZE)
		return mt_bad(why, "is truncated: %zu bytes, less than its header", size);
	t->version = mt_get32(b + MT_HDR_VERSION);
	if (t->version != MODEL_TABLE_VERSION)
		return mt_bad(why, "has format version %u; this switch reads version %d", (unsigned)t->version,
		    MODEL_TABLE_VERSION);
	uint64_t total = get64(b + MT_HDR_TOTAL_SIZE);
	uint32_t nsec = mt_get32(b + MT_HDR_NSECTIONS), dir = mt_get32(b + MT_HDR_SECTIONS);
	if (total != size)
		return mt_bad(why, "is truncated or damaged: the header says %llu bytes, the file has %zu",
		    (unsigned long long)total, size);
	if (size > MODEL_TABLE_MAX_BYTES || mt_get32(b + MT_HDR_HEADER_SIZE) < MT_HDR_SIZE ||
	    nsec > MODEL_TABLE_MAX_SECTIONS || (uint64_t)dir + (uint64_t)nsec * MT_DIR_SIZE > size)
		return mt_bad(why, "has a damaged header");
	t->bytes = b;
	t->size = size;
	for (uint32_t i = 0; i < nsec; i++) {
		const unsigned char *d = b + dir + i * MT_DIR_SIZE;
		uint32_t type = mt_get32(d + MT_DIR_TYPE), off = mt_get32(d + MT_DIR_OFFSET);
		uint32_t count = mt_get32(d + MT_DIR_COUNT), rec = mt_get32(d + MT_DIR_RECORD_SIZE);
		if ((uint64_t)off + (uint64_t)count * rec > size)
			return mt_bad(why, "is truncated: section %u runs past the end", (unsigned)i);
		if (type < MT_SECTION_SETTINGS || type > MT_SECTION_LAST)
			continue;               /* a record type from a later modelc: not ours to read */
		if (t->sec[type].at || rec < want[type] || (type == MT_SECTION_STRINGS && rec != 1) ||
		    (type == MT_SECTION_SETTINGS && count != 1))
			return mt_bad(why, "has a section of type %u this switch cannot read", (unsigned)type);
		t->sec[type].at = b + off;
		t->sec[type].count = count;
		t->sec[type].size = rec;
	}
	for (int type = MT_SECTION_SETTINGS; type <= MT_SECTION_STRINGS; type++)
		if (!t->sec[type].at)
			return mt_bad(why, "has no section of type %d", type);
	t->count = t->sec[MT_SECTION_ROLES].count;
	t->nfiles = t->sec[MT_SECTION_FILES].count;
	t->nargs = t->sec[MT_SECTION_ARGS].count;

	const unsigned char *set = t->sec[MT_SECTION_SETTINGS].at;
	if (mt_check_fields(t, b, header_fields, NFIELDS(header_fields), "header", 0, why) ||
	    mt_check_fields(t, b + MT_HDR_CATALOG, source_fields, NFIELDS(source_fields), "source", 0, why) ||
	    mt_check_fields(t, b + MT_HDR_LOCK, source_fields, NFIELDS(source_fields), "source", 1, why) ||
	    mt_check_fields(t, set, settings_fields, NFIELDS(settings_fields), "settings", 0, why))
		return -1;
	mt_decode_fields(t, b, header_fields, NFIELDS(header_fields), t);
	mt_decode_fields(t, b + MT_HDR_CATALOG, source_fields, NFIELDS(source_fields), &t->catalog);
	mt_decode_fields(t, b + MT_HDR_LOCK, source_fields, NFIELDS(source_fields), &t->lock);
	mt_decode_fields(t, set, settings_fields, NFIELDS(settings_fields), t);
	memcpy(t->digest, b + MT_HDR_DIGEST, sizeof t->digest);
	if (!t->gpu_total_bytes || !t->nargs || !t->count || (t->have_digest && !t->catalog.path))
		return mt_bad(why, "has no GPU memory, server command, roles or catalog");
	for (uint32_t i = 0; i < t->nargs; i++)
		if (mt_check_fields(t, t->sec[MT_SECTION_ARGS].at + i * t->sec[MT_SECTION_ARGS].size, arg_fields, 1,
		    "server command word", i, why))
			return -1;
	for (uint32_t i = 0; i < t->nfiles; i++)
		if (mt_check_fields(t, t->sec[MT_SECTION_FILES].at + i * t->sec[MT_SECTION_FILES].size, file_fields,
		    NFIELDS(file_fields), "file", i, why))
			return -1;
	bool primary = false;
	for (uint32_t i = 0; i < t->count; i++) {
		const unsigned char *r = t->sec[MT_SECTION_ROLES].at + i * t->sec[MT_SECTION_ROLES].size;
		if (mt_check_fields(t, r, role_fields, NFIELDS(role_fields), "role", i, why) || check_role(t, i, why))
			return -1;
		primary |= strcmp(mt_str_at(t, r + MT_ROLE_NAME), t->primary_role) == 0;
	}
	if (!primary)
		return mt_bad(why, "names a primary role '%s' it does not have", t->primary_role);
	return mt_check_placements(t, why);
}

int
model_table_open(const char *path, struct model_table *t, char *why)
{
	struct stat st = {0};
	void *m = MAP_FAILED;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mt_bad(why, "cannot open: %s", strerror(errno));
	bool usable = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    st.st_size <= MODEL_TABLE_MAX_BYTES;
	if (usable)
		m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (!usable)
		return mt_bad(why, "is not a runtime table (not a regular file of 1 byte to 1 GiB)");
	if (m == MAP_FAILED)
		return mt_bad(why, "cannot map: %s", strerror(e));
	/* The mapping stays for the process's life: entries point into it. */
	return model_table_parse(m, (size_t)st.st_size, t, why);
}

void
model_table_entry(const struct model_table *t, size_t i, struct model_entry *e)
{
	const unsigned char *r = t->sec[MT_SECTION_ROLES].at + i * t->sec[MT_SECTION_ROLES].size;

	memset(e, 0, sizeof *e);
	mt_decode_fields(t, r, role_fields, NFIELDS(role_fields), e);
	e->index = i;
	e->params.engine = mt_get32(r + MT_ROLE_P_ENGINE) ? BUDGET_ENGINE_V1 : BUDGET_ENGINE_V0;
	e->params.weights_source = (enum budget_source)mt_get32(r + MT_ROLE_P_WEIGHTS_SOURCE);
	e->params.calibration = &t->calibration;
	e->params.margin_spread = mt_get32(r + MT_ROLE_P_SPREAD) / (double)MT_SPREAD_UNIT;
}

void
model_table_file(const struct model_table *t, size_t i, struct model_file *f)
{
	mt_decode_fields(t, t->sec[MT_SECTION_FILES].at + i * t->sec[MT_SECTION_FILES].size, file_fields,
	    NFIELDS(file_fields), f);
}

const char *
model_table_arg(const struct model_table *t, size_t i)
{
	return mt_str_at(t, t->sec[MT_SECTION_ARGS].at + i * t->sec[MT_SECTION_ARGS].size + MT_ARG_STRING);
}

void
model_table_digest_hex(const struct model_table *t, char hex[2 * MODEL_TABLE_DIGEST_BYTES + 1])
{
	static const char digits[] = "0123456789abcdef";
	int n = t->have_digest ? MODEL_TABLE_DIGEST_BYTES : 0;
	for (int i = 0; i < n; i++) {
		hex[2 * i] = digits[t->digest[i] >> 4];
		hex[2 * i + 1] = digits[t->digest[i] & 15];
	}
	hex[2 * n] = '\0';
}

int
model_table_source_changed(const struct model_table_source *s)
{
	struct stat st;
	if (!s->path || stat(s->path, &st) != 0)
		return 0;
	return (uint64_t)st.st_size != s->size || (int64_t)st.st_mtim.tv_sec != s->mtime_sec ||
	    (uint32_t)st.st_mtim.tv_nsec != s->mtime_nsec;
}
