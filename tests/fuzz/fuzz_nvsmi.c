/* fuzz-covers: common/nvsmi.c */
/* nvidia-smi's CSV output, including drivers that print [N/A] and odd process names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvsmi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nvsmi_state st;
	char err[NVSMI_ERR_MAX];
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&st, 0, sizeof st);
	if (nvsmi_parse_gpus(text, 1, &st, err) == 0)
		for (size_t i = 0; i < st.ngpus; i++)
			(void)nvsmi_cuda_total_bytes(&st.gpus[i]);
	memset(&st, 0, sizeof st);
	(void)nvsmi_parse_gpus(text, 0, &st, err);
	memset(&st, 0, sizeof st);
	(void)nvsmi_parse_apps(text, &st, err);
	free(text);
	return 0;
}
