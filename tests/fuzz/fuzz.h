/* fuzz.h - the libFuzzer entry point every target defines; replay.c calls it for each
 * file of a corpus when the target is built without libFuzzer. */
#pragma once
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
