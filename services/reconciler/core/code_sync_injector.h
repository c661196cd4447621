#pragma once
// Code sync (SPEC §4): when a job carries the kubedl.io/git-sync-config annotation, every pod
// gets an init container that fetches the code into an emptyDir volume `git-sync`, and every
// main container mounts it at <workingDir>/<destPath> (subPath <destPath>). Git uses git-sync;
// an HTTP(S) archive, HDFS and S3-compatible stores use their own command lines.
// With a secretRef, the Secret is a read-only volume `code-sync-credentials` mounted into the
// init container only (never the training containers) at api::kCodeSyncCredentialsPath; the
// recipes read their credentials from its files, so no credential is ever a pod env value.
#include "absl/status/status.h"
#include "kubedl/api/job.h"
#include "kubedl/api/json.h"

namespace kubedl::reconciler {

inline constexpr char kCodeSyncVolume[] = "git-sync";
inline constexpr char kCodeSyncCredentialsVolume[] = "code-sync-credentials";
inline constexpr int kCodeSyncCredentialsMode = 0400;

// No-op without the annotation; InvalidArgument (never a crash) when it is malformed.
absl::Status InjectCodeSync(const api::Job& job, api::Json& pod);

}  // namespace kubedl::reconciler
