//! [`DayWriters`] on a thread of their own, so turning traces into documents overlaps with
//! parsing the next lines (on two cores, parsing alone keeps one of them busy).
//!
//! The channel is bounded: a slow writer makes the reader wait rather than letting traces pile
//! up in memory. The first error stops the writing; it is returned by the next
//! [`WriterThread::commit`] or by [`WriterThread::close`].

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};

use super::hot::DayWriters;
use crate::trace::Trace;

/// Traces waiting for the writer thread at most.
const QUEUE: usize = 512;

enum Op {
    Put(Box<Trace>, Vec<(u32, String)>, bool),
    Delete(String, DateTime<Utc>),
    Commit(SyncSender<Result<()>>),
}

/// The handle of the writer thread.
pub struct WriterThread {
    tx: Option<SyncSender<Op>>,
    handle: Option<JoinHandle<Result<DayWriters>>>,
}

impl WriterThread {
    pub fn spawn(mut writers: DayWriters) -> Result<WriterThread> {
        let (tx, rx) = sync_channel(QUEUE);
        let handle =
            std::thread::Builder::new()
                .name("mailtrace-writer".into())
                .spawn(move || -> Result<DayWriters> {
                    work(&mut writers, rx)?;
                    Ok(writers)
                })?;
        Ok(WriterThread {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    /// Queues a trace (see [`DayWriters::put`]).
    pub fn put(&self, t: Trace, files: Vec<(u32, String)>, replace: bool) -> Result<()> {
        self.send(Op::Put(Box::new(t), files, replace))
    }

    /// Queues a deletion (see [`DayWriters::delete`]).
    pub fn delete(&self, trace_id: String, first_time: DateTime<Utc>) -> Result<()> {
        self.send(Op::Delete(trace_id, first_time))
    }

    /// Commits everything queued so far; returns when it is on disk.
    pub fn commit(&self) -> Result<()> {
        let (tx, rx) = sync_channel(1);
        self.send(Op::Commit(tx))?;
        rx.recv().map_err(|_| self.failure())?
    }

    /// Stops the thread once everything queued is written, and returns the writers (to close
    /// them) or the error that stopped it.
    pub fn close(mut self) -> Result<DayWriters> {
        self.tx.take();
        let handle = self.handle.take().expect("joined once");
        let writers = handle
            .join()
            .map_err(|_| anyhow!("the index writer thread panicked"))??;
        Ok(writers)
    }

    fn send(&self, op: Op) -> Result<()> {
        self.tx
            .as_ref()
            .expect("open until closed")
            .send(op)
            .map_err(|_| self.failure())
    }

    /// The thread stopped early: its error comes out of `close`.
    fn failure(&self) -> anyhow::Error {
        anyhow!("the index writer stopped (its error follows when the run ends)")
    }
}

fn work(writers: &mut DayWriters, rx: Receiver<Op>) -> Result<()> {
    for op in rx {
        match op {
            Op::Put(t, files, replace) => writers.put(*t, &files, replace)?,
            Op::Delete(id, first) => writers.delete(&id, first)?,
            Op::Commit(reply) => {
                let done = writers.commit();
                let failed = done.is_err();
                let _ = reply.send(done);
                if failed {
                    return Err(anyhow!("a commit failed"));
                }
            }
        }
    }
    Ok(())
}
