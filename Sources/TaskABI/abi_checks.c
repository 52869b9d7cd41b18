// Compile-time checks of the task ABI's frozen layout: the first four fields of the descriptor
// must sit where every host of every major version reads them.
#include "tawon_task.h"

_Static_assert(offsetof(tawon_task_descriptor, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(tawon_task_descriptor, abi_major) == 4, "abi_major frozen at 4");
_Static_assert(offsetof(tawon_task_descriptor, abi_minor) == 8, "abi_minor frozen at 8");
_Static_assert(offsetof(tawon_task_descriptor, abi_patch) == 12, "abi_patch frozen at 12");
_Static_assert(sizeof(tawon_rc) == 4, "return codes are 32-bit");

/* Within a major version structs only grow at their end: what 1.1 added starts where the 1.0
 * struct ended, so a 1.0 plugin's smaller struct is a prefix of the host's. The host accepts
 * structs as small as these 1.0 sizes (Sources/Host/Tasks/ABIStructSizes.swift). */
_Static_assert(offsetof(tawon_event, kind) == 88, "tawon_event's 1.1 fields follow its 1.0 end");
_Static_assert(offsetof(tawon_host_api, subscribe) == 48, "tawon_host_api's 1.1 functions follow its 1.0 end");
_Static_assert(sizeof(tawon_task_info) == 32 && sizeof(tawon_function) == 48 &&
                   sizeof(tawon_capability_set) == 40 && sizeof(tawon_output_field) == 32 &&
                   sizeof(tawon_option) == 40 && sizeof(tawon_record) == 32 &&
                   sizeof(tawon_process_info) == 80 && sizeof(tawon_task_descriptor) == 72,
               "structs unchanged since 1.0");
