//! The most memory a single allocation can ever get on this machine.
//!
//! On Linux, memory is overcommitted and mimalloc reserves address space before it touches it,
//! so a request for terabytes does not fail by itself: it succeeds and the process grows until
//! the kernel's out-of-memory killer ends something. A buffer larger than the machine's memory
//! and swap together (or than the cgroup's limit) can never be filled, so sizes are checked
//! against that before anything is allocated, and such a request fails at once.

use std::sync::OnceLock;

/// Bytes that a single buffer may take at the very most: physical memory plus swap, bounded by
/// the cgroup's memory limit where one is set; `usize::MAX` where the system does not say.
pub fn max_allocation_bytes() -> usize {
    static LIMIT: OnceLock<usize> = OnceLock::new();
    *LIMIT.get_or_init(|| system_limit().unwrap_or(usize::MAX))
}

fn system_limit() -> Option<usize> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let total = meminfo_kib(&meminfo, "MemTotal")?;
    let swap = meminfo_kib(&meminfo, "SwapTotal").unwrap_or(0);
    let machine = total.saturating_add(swap).saturating_mul(1024);
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok())
        .map(|limit| limit.saturating_add(swap.saturating_mul(1024)));
    Some(cgroup.map_or(machine, |limit| limit.min(machine)))
}

/// The value in KiB of a `/proc/meminfo` line such as `MemTotal:  24576000 kB`.
fn meminfo_kib(meminfo: &str, key: &str) -> Option<usize> {
    meminfo.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_meminfo_lines() {
        let text = "MemTotal:       24576000 kB\nMemFree:  100 kB\nSwapTotal:  2048 kB\n";
        assert_eq!(meminfo_kib(text, "MemTotal"), Some(24_576_000));
        assert_eq!(meminfo_kib(text, "SwapTotal"), Some(2048));
        assert_eq!(meminfo_kib(text, "Mem"), None);
        assert_eq!(meminfo_kib(text, "Cached"), None);
    }

    #[test]
    fn the_limit_is_positive_and_below_a_petabyte_on_linux() {
        let limit = max_allocation_bytes();
        assert!(limit > 0);
        if cfg!(target_os = "linux") {
            assert!(limit < 1 << 50, "limit {limit}");
        }
    }
}
