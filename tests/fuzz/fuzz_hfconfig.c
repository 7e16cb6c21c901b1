/* fuzz-covers: compiler/hfconfig.c */
/* config.json from the Hub or a local directory, as modelc reads the architecture from it. */
#include <jansson.h>
#include <stdint.h>

#include "hfconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *cfg = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (cfg) {
		struct budget_arch arch;
		struct hfconfig_info info;
		(void)hfconfig_from_json(cfg, &arch, &info);
		json_decref(cfg);
	}
	return 0;
}
