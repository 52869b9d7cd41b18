#pragma once
#include <sys/capability.h>
#include <sys/prctl.h>

/* prctl is variadic, which Swift cannot call: its five-argument form. */
static inline int clibcap_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4,
                                unsigned long arg5)
{
    return prctl(option, arg2, arg3, arg4, arg5);
}
