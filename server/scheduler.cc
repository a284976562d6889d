#include "server/scheduler.h"

#include <filesystem>
#include <iostream>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/job_state.h"
#include "server/log.h"

namespace depthd::server {
namespace {

namespace fs = std::filesystem;

absl::Status ShutdownDuringUpload() {
  return absl::UnavailableError(
      "depthd shut down before the upload was complete; send the video again");
}

}  // namespace

Scheduler::Scheduler(SchedulerOptions options, JobStore* store, ResultCatalog* results,
                     JobRunner* runner, MemoryBudget* budget, Metrics* metrics)
    : options_(std::move(options)),
      store_(store),
      results_(results),
      runner_(runner),
      budget_(budget),
      metrics_(metrics) {}

Scheduler::~Scheduler() {
  Drain(absl::ZeroDuration());
  // Runners were told to stop; each ends within a network call.
  absl::MutexLock lock(&mu_);
  auto all_done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return running_.empty(); };
  mu_.Await(absl::Condition(&all_done));
  for (std::thread& thread : finished_threads_) {
    if (thread.get_id() != std::this_thread::get_id()) thread.join();
  }
}

absl::StatusOr<std::shared_ptr<ActiveJob>> Scheduler::Admit(JobRecord record, ResolvedJob spec) {
  absl::MutexLock lock(&mu_);
  if (draining_) return absl::UnavailableError("depthd is shutting down; retry on another server");
  if (!record.live && static_cast<int>(waiting_.size()) >= options_.queue_size) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the job queue is full (", waiting_.size(), " jobs waiting, --queue_size ",
        options_.queue_size, "); retry later"));
  }
  const int64_t estimate = JobRunner::EstimateBytes(spec, options_.max_pixels);
  if (estimate > budget_->total()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the job would need about ", estimate >> 20, " MiB of memory, more than the server's budget (",
        budget_->total() >> 20, " MiB, --max_memory_bytes); use a lower processing_res"));
  }
  if (record.live) {
    int open_ended = 0;
    for (const auto& [id, running] : running_) open_ended += running.open_ended ? 1 : 0;
    if (open_ended >= OpenEndedSlots() ||
        static_cast<int>(running_.size()) >= options_.max_active_jobs) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "no slot for a live stream now (", running_.size(), " jobs running, --max_active_jobs ",
          options_.max_active_jobs, "); retry later"));
    }
  }
  record.frames_upload = record.frames_upload || record.live;
  auto auto_record = store_->Create(record);
  if (!auto_record.ok()) return auto_record.status();
  auto job = std::make_shared<ActiveJob>(auto_record->id, auto_record->tenant, auto_record->seq,
                                         std::move(spec), auto_record->frames_upload);
  absl::Status made = absl::OkStatus();
  if (auto_record->live) {
    job->input = std::make_shared<LiveInput>(options_.live_buffer_frames);
  } else {
    auto upload = UploadSpool::Create(options_.uploads_dir, job->id, job->frames_upload,
                                      options_.sync_uploads);
    if (upload.ok()) job->upload = *std::move(upload);
    made = upload.status();
  }
  if (made.ok()) {
    auto result = results_->Create(*auto_record, options_.live_buffer_frames);
    if (result.ok()) job->result = *std::move(result);
    made = result.status();
  }
  if (!made.ok()) {
    (void)store_->Finish(job->id, made);
    if (job->upload) job->upload->Remove();
    results_->Remove(job->id, made);
    return made;
  }
  jobs_[job->id] = job;
  if (auto_record->live) {
    if (!StartLocked(job, /*open_ended=*/true)) {
      const absl::Status full = absl::ResourceExhaustedError(
          "the server's memory budget has no room for a live stream now; retry later");
      (void)store_->Finish(job->id, full);
      results_->Remove(job->id, full);
      jobs_.erase(job->id);
      return full;
    }
  } else {
    waiting_[job->seq] = job;
  }
  UpdateGaugesLocked();
  return job;
}

void Scheduler::UploadProgressed(const std::shared_ptr<ActiveJob>&) {
  absl::MutexLock lock(&mu_);
  ScheduleLocked();
}

absl::Status Scheduler::UploadCompleted(const std::shared_ptr<ActiveJob>& job, int64_t bytes,
                                        int frames) {
  absl::MutexLock lock(&mu_);
  // A job may end before its upload does (a streamed decode that finds the video bad, a cancel):
  // its stream then reports the job's own outcome, and there is nothing left to queue.
  auto ended = [&] {
    const std::optional<JobRecord> record = store_->Get(job->id);
    return record && IsFinal(record->state);
  };
  absl::Status status = store_->CompleteUpload(job->id, bytes, frames);
  if (!status.ok()) return ended() ? absl::OkStatus() : status;
  auto it = running_.find(job->id);
  if (it != running_.end()) it->second.open_ended = false;
  ScheduleLocked();
  UpdateGaugesLocked();
  return absl::OkStatus();
}

void Scheduler::UploadFailed(const std::shared_ptr<ActiveJob>& job, const absl::Status& why) {
  if (job->upload) {
    job->upload->Abandon(why);
    job->upload->Remove();  // a failed upload is never resumed: its space is free at once
  }
  if (job->input) job->input->Abandon(why);
  absl::MutexLock lock(&mu_);
  if (running_.contains(job->id)) {
    job->Cancel(why);
    job->result->Fail(why);
  } else if (waiting_.contains(job->seq)) {
    EndWaitingLocked(job, why);
  }
  UpdateGaugesLocked();
}

absl::Status Scheduler::Cancel(const std::string& id, const absl::Status& why) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return absl::OkStatus();  // already ended
  std::shared_ptr<ActiveJob> job = it->second;
  if (running_.contains(id)) {
    job->Cancel(why);
    job->result->Fail(why);
  } else {
    job->Cancel(why);
    EndWaitingLocked(job, why);
  }
  UpdateGaugesLocked();
  return absl::OkStatus();
}

std::shared_ptr<ActiveJob> Scheduler::Find(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : it->second;
}

int Scheduler::Position(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || running_.contains(id)) return -1;
  int ahead = 0;
  for (const auto& [seq, job] : waiting_) {
    if (seq >= it->second->seq) break;
    ++ahead;
  }
  return ahead;
}

int Scheduler::waiting() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(waiting_.size());
}

int Scheduler::running() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(running_.size());
}

void Scheduler::EndWaitingLocked(const std::shared_ptr<ActiveJob>& job, const absl::Status& why) {
  waiting_.erase(job->seq);
  jobs_.erase(job->id);
  if (job->upload) {
    job->upload->Abandon(why);
    job->upload->Remove();
  }
  if (job->result) job->result->Fail(why);
  results_->Remove(job->id, why);
  (void)store_->Finish(job->id, why);
}

bool Scheduler::StartLocked(const std::shared_ptr<ActiveJob>& job, bool open_ended) {
  const int64_t estimate = JobRunner::EstimateBytes(job->spec, options_.max_pixels);
  if (!budget_->TryReserve(estimate)) return false;
  const std::optional<JobRecord> record = store_->Get(job->id);
  if (record && record->state != v1::JOB_STATE_RUNNING) {
    absl::Status started = store_->Start(job->id);
    if (!started.ok()) {
      budget_->Release(estimate);
      EndWaitingLocked(job, started);
      return true;  // the slot is still free; try the next job
    }
  }
  if (record && record->upload_complete) {
    metrics_->ObserveQueueWait(absl::ToDoubleSeconds(absl::Now() - record->created));
  }
  waiting_.erase(job->seq);
  Running& running = running_[job->id];
  running.job = job;
  running.memory = std::make_unique<MemoryReservation>(budget_, estimate);
  running.open_ended = open_ended;
  running.thread = std::thread([this, job] { RunJob(job); });
  LogDetail(absl::StrCat("job ", job->id, ": started", open_ended ? " (open-ended)" : ""));
  return true;
}

void Scheduler::ScheduleLocked() {
  // Threads of jobs that ended are joined here, except the calling one (a job's own thread
  // schedules the next job as it ends): it is joined by a later call.
  std::vector<std::thread> still_running;
  for (std::thread& thread : finished_threads_) {
    if (thread.get_id() == std::this_thread::get_id()) {
      still_running.push_back(std::move(thread));
    } else {
      thread.join();
    }
  }
  finished_threads_ = std::move(still_running);
  if (draining_) return;
  while (static_cast<int>(running_.size()) < options_.max_active_jobs && !waiting_.empty()) {
    // The oldest job whose upload is complete; else, when none waits, the oldest upload still
    // arriving may start early in an open-ended slot.
    std::shared_ptr<ActiveJob> next;
    bool open_ended = false;
    for (const auto& [seq, job] : waiting_) {
      const std::optional<JobRecord> record = store_->Get(job->id);
      if (record && record->upload_complete) {
        next = job;
        break;
      }
    }
    if (!next) {
      int open = 0;
      for (const auto& [id, running] : running_) open += running.open_ended ? 1 : 0;
      const std::shared_ptr<ActiveJob>& oldest = waiting_.begin()->second;
      // An upload still arriving starts early only where it leaves a slot for complete ones.
      if (open >= options_.max_active_jobs - 1 || oldest->upload == nullptr ||
          oldest->upload->bytes() == 0) {
        break;
      }
      next = oldest;
      open_ended = true;
    }
    if (!StartLocked(next, open_ended)) {
      if (!running_.empty()) break;  // waits for memory that running jobs will give back
      EndWaitingLocked(next, absl::ResourceExhaustedError(
                                 "the job does not fit the server's memory budget (--max_memory_bytes)"));
    }
  }
}

void Scheduler::RunJob(std::shared_ptr<ActiveJob> job) {
  MemoryReservation* memory;
  {
    absl::MutexLock lock(&mu_);
    memory = running_[job->id].memory.get();
  }
  const absl::Time start = absl::Now();
  absl::Status status = runner_->Run(*job, *memory);
  if (job->cancelled) {
    // The reason it was stopped says more than the error stopping it caused.
    const absl::Status why = job->why_cancelled();
    if (!why.ok()) status = why;
  }
  metrics_->ObserveJob(absl::ToDoubleSeconds(absl::Now() - start));
  Finished(job, status);
}

void Scheduler::Finished(const std::shared_ptr<ActiveJob>& job, const absl::Status& status) {
  if (!job->requeued) {
    // The upload goes before the end is recorded: an ended job owns no upload file.
    if (job->upload) job->upload->Remove();
    if (status.ok()) {
      (void)store_->SetResult(job->id, job->result->in_memory() ? v1::RESULT_STATE_NONE
                                                                : v1::RESULT_STATE_COMPLETE,
                              job->result->bytes());
      (void)store_->Finish(job->id, status);
      job->result->Publish();
      results_->Evict();
    } else {
      job->result->Fail(status);
      results_->Remove(job->id, status);
      (void)store_->Finish(job->id, status);
    }
  }
  std::cerr << "job id=" << job->id << " outcome=" << (job->requeued ? "requeued" : Outcome(status))
            << (status.ok() ? "" : absl::StrCat(" error=\"", status.message(), "\"")) << std::endl;
  {
    absl::MutexLock lock(&mu_);
    auto it = running_.find(job->id);
    if (it != running_.end()) {
      finished_threads_.push_back(std::move(it->second.thread));
      running_.erase(it);  // the memory reservation goes with it
    }
    if (!job->requeued || draining_) jobs_.erase(job->id);
    ScheduleLocked();
    UpdateGaugesLocked();
  }
  if (options_.release_memory) options_.release_memory();
}

void Scheduler::UpdateGaugesLocked() {
  metrics_->SetQueueDepth(static_cast<int>(waiting_.size()));
  metrics_->SetJobsRunning(static_cast<int>(running_.size()));
  metrics_->SetMemoryBytes(budget_->in_use(), budget_->total());
}

absl::StatusOr<int> Scheduler::Recover() {
  std::set<std::string> keep_uploads, keep_results;
  int recovered = 0;
  for (const JobRecord& record : store_->All()) {
    if (record.result == v1::RESULT_STATE_COMPLETE) keep_results.insert(record.id);
    switch (record.state) {
      case v1::JOB_STATE_UPLOADING:
        (void)store_->Finish(record.id, absl::UnavailableError(
                                            "the upload was interrupted by a restart of depthd before "
                                            "it was complete; send the video again"));
        continue;
      case v1::JOB_STATE_RUNNING:
        if (record.live) {
          (void)store_->Finish(record.id, absl::UnavailableError(
                                              "the live stream ended when depthd restarted"));
          continue;
        }
        if (absl::Status s = store_->Requeue(record.id); !s.ok()) return s;
        [[fallthrough]];
      case v1::JOB_STATE_QUEUED: {
        absl::StatusOr<ResolvedJob> spec = options_.resolve(record.spec);
        absl::StatusOr<std::shared_ptr<UploadSpool>> upload =
            spec.ok() ? UploadSpool::OpenComplete(options_.uploads_dir, record.id,
                                                  record.frames_upload, record.upload_bytes,
                                                  record.upload_frames)
                      : spec.status();
        if (!upload.ok()) {
          (void)store_->Finish(record.id, upload.status());
          continue;
        }
        auto job = std::make_shared<ActiveJob>(record.id, record.tenant, record.seq, *std::move(spec),
                                               record.frames_upload);
        job->upload = *std::move(upload);
        auto result = results_->Create(record, options_.live_buffer_frames);
        if (!result.ok()) return result.status();
        job->result = *std::move(result);
        (void)store_->SetResult(record.id, v1::RESULT_STATE_NONE, 0);
        keep_uploads.insert(record.id);
        keep_results.insert(record.id);
        absl::MutexLock lock(&mu_);
        jobs_[job->id] = job;
        waiting_[job->seq] = job;
        ++recovered;
        break;
      }
      default:
        break;
    }
  }
  // Only files depthd named (job ids) and no job owns; anything else in the folders stays.
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(options_.uploads_dir, error)) {
    const std::string name = entry.path().filename().string();
    const std::string stem = entry.path().stem().string();
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || !IsJobId(stem) || (ext != ".video" && ext != ".frames")) continue;
    if (keep_uploads.count(stem) == 0) fs::remove(entry.path(), error);
  }
  results_->RemoveOrphans(keep_results);
  metrics_->CountJobsRecovered(recovered);
  absl::MutexLock lock(&mu_);
  ScheduleLocked();
  UpdateGaugesLocked();
  return recovered;
}

bool Scheduler::Drain(absl::Duration grace) {
  const absl::Time deadline = absl::Now() + grace;
  std::vector<std::shared_ptr<ActiveJob>> running;
  {
    absl::MutexLock lock(&mu_);
    if (draining_ && running_.empty()) return true;
    draining_ = true;
    std::vector<std::shared_ptr<ActiveJob>> waiting;
    for (const auto& [seq, job] : waiting_) waiting.push_back(job);
    for (const auto& job : waiting) {
      const std::optional<JobRecord> record = store_->Get(job->id);
      if (record && !record->upload_complete) {
        EndWaitingLocked(job, ShutdownDuringUpload());
      } else {
        // Stays QUEUED in the store: it runs when depthd starts again.
        job->result->Fail(absl::UnavailableError(absl::StrCat(
            "depthd is shutting down; job ", job->id,
            " is kept and runs when depthd starts again: fetch its result then (FetchResult)")));
      }
    }
    waiting_.clear();
    for (const auto& [id, r] : running_) {
      const std::optional<JobRecord> record = store_->Get(id);
      if (r.job->input || (record && !record->upload_complete)) {
        const absl::Status why = r.job->input
                                     ? absl::UnavailableError("depthd is shutting down; the live stream ends")
                                     : ShutdownDuringUpload();
        r.job->Cancel(why);
        r.job->result->Fail(why);
      }
      running.push_back(r.job);
    }
    UpdateGaugesLocked();
  }
  auto all_done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return running_.empty(); };
  absl::MutexLock lock(&mu_);
  if (mu_.AwaitWithDeadline(absl::Condition(&all_done), deadline)) return true;
  // Grace is over: the jobs go back to the queue, to run again after a restart.
  for (auto& [id, r] : running_) {
    r.job->requeued = true;
    (void)store_->Requeue(id);
    const absl::Status why = absl::UnavailableError(absl::StrCat(
        "depthd shut down before job ", id, " finished (--shutdown_grace); it runs again when "
        "depthd starts: fetch its result then (FetchResult)"));
    r.job->Cancel(why);
    r.job->result->Fail(why);
  }
  // A batch in progress is not interrupted; give the runners a moment to notice (with the
  // server's 200 ms to end its streams, shutdown stays within the grace plus 0.5 s).
  return mu_.AwaitWithTimeout(absl::Condition(&all_done), absl::Milliseconds(150));
}

}  // namespace depthd::server
