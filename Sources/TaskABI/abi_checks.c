// Compile-time checks of the task ABI's frozen layout: the first four fields of the descriptor
// must sit where every host of every major version reads them.
#include "tawon_task.h"

_Static_assert(offsetof(tawon_task_descriptor, struct_size) == 0, "struct_size first");
_Static_assert(offsetof(tawon_task_descriptor, abi_major) == 4, "abi_major frozen at 4");
_Static_assert(offsetof(tawon_task_descriptor, abi_minor) == 8, "abi_minor frozen at 8");
_Static_assert(offsetof(tawon_task_descriptor, abi_patch) == 12, "abi_patch frozen at 12");
_Static_assert(sizeof(tawon_rc) == 4, "return codes are 32-bit");
