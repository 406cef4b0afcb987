/* What winvmctl's output may use on this terminal. */
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "util.h"

bool client_locale_is_utf8(void) {
        const char *old = setlocale(LC_CTYPE, NULL);
        _cleanup_free_ char *saved = old ? strdup(old) : NULL;
        bool utf8 = setlocale(LC_CTYPE, "") && strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
        if (saved)
                setlocale(LC_CTYPE, saved);
        return utf8;
}
