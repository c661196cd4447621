// Teaches ThreadSanitizer about Abseil's synchronization in the TSan build (KUBEDL_TSAN).
//
// Debian's libabsl is not built with -fsanitize=thread, so TSan does not see the happens-before
// edges of absl::Mutex, absl::CondVar and absl::Notification (they synchronize with their own
// atomics and futexes inside the uninstrumented library) and would report every access our code
// makes under an absl::Mutex as a race. The link wraps those functions (-Wl,--wrap=..., see
// cmake/KubedlTarget.cmake) with the ones below, which call the real function and tell TSan
// what it did: taking a lock (or coming back from a wait) acquires the mutex's address,
// releasing it (or starting a wait) releases it. This adds no synchronization of its own and
// suppresses no report; a race on data that is not under the same mutex is still reported.
//
// Conditions (Await, LockWhen) are evaluated by Abseil while it holds the mutex internally, on
// the waiting thread or on whichever thread unlocks; each one is passed on wrapped so that TSan
// sees its evaluation inside the critical section (acquire before, release after). This file is
// compiled without -fsanitize=thread: its reads of the wrapping Condition happen inside Abseil.
//
// Only calls from our code are wrapped (calls inside libabsl, gRPC and others go to the real
// functions directly); ReleasableMutexLock::Release is not wrapped: our code does not use it.
#include <sanitizer/tsan_interface.h>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

void Acquire(const void* addr) { __tsan_acquire(const_cast<void*>(addr)); }
void Release(const void* addr) { __tsan_release(const_cast<void*>(addr)); }

// Notification::HasBeenNotified() is inline: an acquire load of the flag that follows the
// Mutex. Notify() (in the library) stores it; releasing at the flag's address pairs with that
// instrumented load.
const void* NotifiedFlag(const absl::Notification* n) {
  static_assert(sizeof(absl::Notification) == 2 * sizeof(absl::Mutex),
                "absl::Notification is { Mutex mutex_; std::atomic<bool> notified_yet_; }");
  return reinterpret_cast<const char*>(n) + sizeof(absl::Mutex);
}

// A condition whose evaluation TSan sees as holding `mu`.
struct AnnotatedCondition {
  absl::Mutex* mu;
  const absl::Condition* condition;
};

bool EvalAnnotated(AnnotatedCondition* a) {
  Acquire(a->mu);
  const bool met = a->condition->Eval();
  Release(a->mu);
  return met;
}

}  // namespace

// Wraps `cond` of `mu` for the call that follows.
#define KUBEDL_ANNOTATED_CONDITION(mu, cond)       \
  AnnotatedCondition annotated_arg{(mu), &(cond)}; \
  const absl::Condition annotated(&EvalAnnotated, &annotated_arg)

extern "C" {

// --- absl::Mutex -------------------------------------------------------------------------------
void __real__ZN4absl7debian35Mutex4LockEv(absl::Mutex* mu);
void __wrap__ZN4absl7debian35Mutex4LockEv(absl::Mutex* mu) {
  __real__ZN4absl7debian35Mutex4LockEv(mu);
  Acquire(mu);
}
void __real__ZN4absl7debian35Mutex6UnlockEv(absl::Mutex* mu);
void __wrap__ZN4absl7debian35Mutex6UnlockEv(absl::Mutex* mu) {
  Release(mu);
  __real__ZN4absl7debian35Mutex6UnlockEv(mu);
}
bool __real__ZN4absl7debian35Mutex7TryLockEv(absl::Mutex* mu);
bool __wrap__ZN4absl7debian35Mutex7TryLockEv(absl::Mutex* mu) {
  const bool locked = __real__ZN4absl7debian35Mutex7TryLockEv(mu);
  if (locked) Acquire(mu);
  return locked;
}
void __real__ZN4absl7debian35Mutex10ReaderLockEv(absl::Mutex* mu);
void __wrap__ZN4absl7debian35Mutex10ReaderLockEv(absl::Mutex* mu) {
  __real__ZN4absl7debian35Mutex10ReaderLockEv(mu);
  Acquire(mu);
}
void __real__ZN4absl7debian35Mutex12ReaderUnlockEv(absl::Mutex* mu);
void __wrap__ZN4absl7debian35Mutex12ReaderUnlockEv(absl::Mutex* mu) {
  Release(mu);
  __real__ZN4absl7debian35Mutex12ReaderUnlockEv(mu);
}
bool __real__ZN4absl7debian35Mutex13ReaderTryLockEv(absl::Mutex* mu);
bool __wrap__ZN4absl7debian35Mutex13ReaderTryLockEv(absl::Mutex* mu) {
  const bool locked = __real__ZN4absl7debian35Mutex13ReaderTryLockEv(mu);
  if (locked) Acquire(mu);
  return locked;
}
void __real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(absl::Mutex* mu,
                                                              const absl::Condition& c);
void __wrap__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(absl::Mutex* mu,
                                                              const absl::Condition& c) {
  KUBEDL_ANNOTATED_CONDITION(mu, c);
  __real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(mu, annotated);
  Acquire(mu);
}
void __real__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(absl::Mutex* mu,
                                                                     const absl::Condition& c);
void __wrap__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(absl::Mutex* mu,
                                                                     const absl::Condition& c) {
  KUBEDL_ANNOTATED_CONDITION(mu, c);
  __real__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(mu, annotated);
  Acquire(mu);
}
bool __real__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    absl::Mutex* mu, const absl::Condition& c, absl::Duration d);
bool __wrap__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    absl::Mutex* mu, const absl::Condition& c, absl::Duration d) {
  KUBEDL_ANNOTATED_CONDITION(mu, c);
  const bool met =
      __real__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
          mu, annotated, d);
  Acquire(mu);  // held either way
  return met;
}
bool __real__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    absl::Mutex* mu, const absl::Condition& c, absl::Time t);
bool __wrap__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    absl::Mutex* mu, const absl::Condition& c, absl::Time t) {
  KUBEDL_ANNOTATED_CONDITION(mu, c);
  const bool met =
      __real__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
          mu, annotated, t);
  Acquire(mu);
  return met;
}
void __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(absl::Mutex* mu,
                                                           const absl::Condition& c);
void __wrap__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(absl::Mutex* mu,
                                                           const absl::Condition& c) {
  KUBEDL_ANNOTATED_CONDITION(mu, c);
  Release(mu);
  __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(mu, annotated);
  Acquire(mu);
}
bool __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    absl::Mutex* mu, const absl::Condition& c, absl::Duration d);
bool __wrap__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    absl::Mutex* mu, const absl::Condition& c, absl::Duration d) {
  KUBEDL_ANNOTATED_CONDITION(mu, c);
  Release(mu);
  const bool met =
      __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
          mu, annotated, d);
  Acquire(mu);
  return met;
}
bool __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    absl::Mutex* mu, const absl::Condition& c, absl::Time t);
bool __wrap__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    absl::Mutex* mu, const absl::Condition& c, absl::Time t) {
  KUBEDL_ANNOTATED_CONDITION(mu, c);
  Release(mu);
  const bool met =
      __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
          mu, annotated, t);
  Acquire(mu);
  return met;
}

// --- absl::CondVar: a wait releases the mutex and takes it again ------------------------------
void __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(absl::CondVar* cv, absl::Mutex* mu);
void __wrap__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(absl::CondVar* cv, absl::Mutex* mu) {
  Release(mu);
  __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(cv, mu);
  Acquire(mu);
}
bool __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    absl::CondVar* cv, absl::Mutex* mu, absl::Duration d);
bool __wrap__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    absl::CondVar* cv, absl::Mutex* mu, absl::Duration d) {
  Release(mu);
  const bool timed_out =
      __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(cv, mu, d);
  Acquire(mu);
  return timed_out;
}
bool __real__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(
    absl::CondVar* cv, absl::Mutex* mu, absl::Time t);
bool __wrap__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(
    absl::CondVar* cv, absl::Mutex* mu, absl::Time t) {
  Release(mu);
  const bool timed_out =
      __real__ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(cv, mu, t);
  Acquire(mu);
  return timed_out;
}

// --- absl::Notification ------------------------------------------------------------------------
void __real__ZN4absl7debian312Notification6NotifyEv(absl::Notification* n);
void __wrap__ZN4absl7debian312Notification6NotifyEv(absl::Notification* n) {
  Release(n);
  Release(NotifiedFlag(n));
  __real__ZN4absl7debian312Notification6NotifyEv(n);
}
void __real__ZNK4absl7debian312Notification19WaitForNotificationEv(const absl::Notification* n);
void __wrap__ZNK4absl7debian312Notification19WaitForNotificationEv(const absl::Notification* n) {
  __real__ZNK4absl7debian312Notification19WaitForNotificationEv(n);
  Acquire(n);
}
bool __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const absl::Notification* n, absl::Duration d);
bool __wrap__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const absl::Notification* n, absl::Duration d) {
  const bool notified =
      __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(n, d);
  if (notified) Acquire(n);
  return notified;
}
bool __real__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
    const absl::Notification* n, absl::Time t);
bool __wrap__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(
    const absl::Notification* n, absl::Time t) {
  const bool notified =
      __real__ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE(n, t);
  if (notified) Acquire(n);
  return notified;
}

}  // extern "C"
