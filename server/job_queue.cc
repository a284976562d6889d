#include "server/job_queue.h"

#include <algorithm>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace depthd::server {
namespace {

constexpr size_t kRecentJobs = 100;

std::string NewJobId(uint64_t sequence) {
  static const uint64_t boot = std::random_device{}();
  return absl::StrFormat("job-%06x-%04d", boot & 0xffffff, sequence);
}

v1::EstimateResponse QueuedProgress(int position) {
  v1::EstimateResponse response;
  response.mutable_progress()->set_stage(v1::STAGE_QUEUED);
  response.mutable_progress()->set_queue_position(position);
  return response;
}

}  // namespace

JobQueue::JobQueue(int queue_size, Runner runner, std::function<void(int, int)> on_change)
    : queue_size_(queue_size), runner_(std::move(runner)), on_change_(std::move(on_change)) {
  worker_ = std::thread([this] { WorkerLoop(); });
}

JobQueue::~JobQueue() { Drain(absl::ZeroDuration()); }

absl::StatusOr<std::shared_ptr<Job>> JobQueue::Admit(ResolvedJob spec) {
  absl::MutexLock lock(&mu_);
  if (draining_) return absl::UnavailableError("depthd is shutting down; retry on another server");
  if (static_cast<int>(waiting_.size()) >= queue_size_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the job queue is full (", waiting_.size(), " jobs waiting, --queue_size ", queue_size_,
        "); retry later"));
  }
  auto job = std::make_shared<Job>(NewJobId(next_id_++), std::move(spec));
  waiting_.push_back(job);
  recent_[job->id] = job;
  recent_order_.push_back(job->id);
  while (recent_order_.size() > kRecentJobs) {
    const std::string& oldest = recent_order_.front();
    auto it = recent_.find(oldest);
    if (it != recent_.end() && it->second.get() != running_.get() &&
        std::find(waiting_.begin(), waiting_.end(), it->second) == waiting_.end()) {
      recent_.erase(it);
    }
    recent_order_.pop_front();
  }
  if (on_change_) on_change_(static_cast<int>(waiting_.size()), running_ ? 1 : 0);
  return job;
}

void JobQueue::MarkReady(const std::shared_ptr<Job>& job) {
  absl::MutexLock lock(&mu_);
  job->ready_at = absl::Now();
  {
    absl::MutexLock job_lock(&job->mu);
    job->state = v1::JOB_STATE_QUEUED;
    job->stage = v1::STAGE_QUEUED;
  }
  NotifyPositionsLocked();
}

void JobQueue::Remove(const std::shared_ptr<Job>& job) {
  absl::MutexLock lock(&mu_);
  job->RemoveSpool();
  auto it = std::find(waiting_.begin(), waiting_.end(), job);
  if (it != waiting_.end()) {
    waiting_.erase(it);
    NotifyPositionsLocked();
  }
  if (on_change_) on_change_(static_cast<int>(waiting_.size()), running_ ? 1 : 0);
}

void JobQueue::Cancel(const std::shared_ptr<Job>& job, const std::string& reason) {
  job->Cancel(reason);
  absl::MutexLock lock(&mu_);
  auto it = std::find(waiting_.begin(), waiting_.end(), job);
  if (it == waiting_.end()) return;
  waiting_.erase(it);
  job->RemoveSpool();
  {
    absl::MutexLock job_lock(&job->mu);
    job->state = v1::JOB_STATE_CANCELLED;
  }
  job->channel.Close(absl::CancelledError(absl::StrCat("job cancelled before it ran: ", reason)));
  NotifyPositionsLocked();
  if (on_change_) on_change_(static_cast<int>(waiting_.size()), running_ ? 1 : 0);
}

int JobQueue::Position(const Job& job) const {
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < waiting_.size(); ++i) {
    if (waiting_[i].get() == &job) return static_cast<int>(i);
  }
  return -1;
}

std::shared_ptr<Job> JobQueue::Find(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = recent_.find(id);
  return it == recent_.end() ? nullptr : it->second;
}

int JobQueue::waiting() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(waiting_.size());
}

int JobQueue::running() const {
  absl::MutexLock lock(&mu_);
  return running_ ? 1 : 0;
}

void JobQueue::NotifyPositionsLocked() {
  for (size_t i = 0; i < waiting_.size(); ++i) {
    if (waiting_[i]->ready_at != absl::Time()) waiting_[i]->channel.TryPush(QueuedProgress(static_cast<int>(i)));
  }
}

void JobQueue::WorkerLoop() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      absl::MutexLock lock(&mu_);
      // The oldest job whose upload is complete runs next; cancelled ones are dropped.
      auto runnable = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        if (stop_) return true;
        for (const auto& j : waiting_) {
          if (j->ready_at != absl::Time() || j->cancelled()) return true;
        }
        return false;
      };
      mu_.Await(absl::Condition(&runnable));
      if (stop_) return;
      for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
        if ((*it)->cancelled()) {
          (*it)->RemoveSpool();
          (*it)->channel.Close(absl::CancelledError("job cancelled while queued"));
          waiting_.erase(it);
          break;
        }
        if ((*it)->ready_at != absl::Time()) {
          job = *it;
          waiting_.erase(it);
          break;
        }
      }
      if (!job) continue;
      running_ = job;
      NotifyPositionsLocked();
      if (on_change_) on_change_(static_cast<int>(waiting_.size()), 1);
    }
    runner_(*job);
    {
      absl::MutexLock lock(&mu_);
      running_.reset();
      if (on_change_) on_change_(static_cast<int>(waiting_.size()), 0);
    }
  }
}

void JobQueue::Drain(absl::Duration grace) {
  std::shared_ptr<Job> running;
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return;
    draining_ = true;
    for (auto& job : waiting_) {
      job->Cancel("server shutting down");
      job->RemoveSpool();
      job->channel.Close(absl::UnavailableError("depthd is shutting down; the job did not run"));
    }
    waiting_.clear();
    running = running_;
  }
  if (running) {
    const absl::Time deadline = absl::Now() + grace;
    absl::MutexLock lock(&mu_);
    auto finished = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return running_ == nullptr; };
    if (!mu_.AwaitWithDeadline(absl::Condition(&finished), deadline)) {
      running->Cancel("server shutting down: grace period over");
      mu_.Await(absl::Condition(&finished));
    }
  }
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (worker_.joinable()) worker_.join();
}

}  // namespace depthd::server
