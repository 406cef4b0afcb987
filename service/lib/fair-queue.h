/* Items waiting their turn, taken round-robin by key: with the caller's uid as the key, one
 * user's flood of polkit checks does not keep another user's check waiting behind all of it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct FairQueue FairQueue;

FairQueue *fair_queue_new(void);
/* Frees the queue; items still in it are passed to drop (which may be NULL). */
void fair_queue_free(FairQueue *q, void (*drop)(void *item));

void fair_queue_push(FairQueue *q, unsigned key, void *item);

/* The oldest item of the next key in turn for which may_take(key, userdata) holds (NULL:
 * any key); NULL when there is none. A key that gives an item goes to the back of the turn. */
void *fair_queue_pop(FairQueue *q, bool (*may_take)(unsigned key, void *userdata), void *userdata);

/* Takes out every item for which match(item, userdata) holds and passes it to drop. */
void fair_queue_remove_if(FairQueue *q, bool (*match)(void *item, void *userdata), void (*drop)(void *item),
                          void *userdata);

size_t fair_queue_length(const FairQueue *q);
