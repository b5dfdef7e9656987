//! Tests of the cgroup file handling, v1 and v2, against fake cgroup folders.
use super::*;

fn fake_v1(root: &Path) -> std::io::Result<()> {
    for c in ["pids", "memory", "freezer"] {
        std::fs::create_dir_all(root.join(c).join("user"))?;
        std::fs::write(root.join(c).join("user/cgroup.procs"), "")?;
    }
    Ok(())
}

const V1_SELF: &str = "9:name=systemd:/\n8:pids:/user\n4:memory:/user\n6:freezer:/user\n0::/\n";

#[test]
fn finds_v1_controllers_where_mounted() -> std::io::Result<()> {
    let root = tempfile::tempdir()?;
    fake_v1(root.path())?;
    let found = Hierarchy::detect(root.path(), V1_SELF);
    assert_eq!(
        found,
        Some(Hierarchy::V1 {
            pids: Some(root.path().join("pids/user")),
            memory: Some(root.path().join("memory/user")),
            freezer: Some(root.path().join("freezer/user")),
        })
    );
    Ok(())
}

#[test]
fn writes_v1_caps_and_reads_v1_counters() -> std::io::Result<()> {
    let root = tempfile::tempdir()?;
    fake_v1(root.path())?;
    let found = Hierarchy::detect(root.path(), V1_SELF).ok_or_else(|| std::io::Error::other("none"))?;
    let caps = Caps {
        processes: Some(20),
        memory: Some(64 << 20),
    };
    let run = found
        .create(caps)
        .ok_or_else(|| std::io::Error::other("not made"))?;
    let pids = run.pids.clone().ok_or_else(|| std::io::Error::other("no pids"))?;
    let memory = run
        .memory
        .clone()
        .ok_or_else(|| std::io::Error::other("no memory"))?;
    assert_eq!(std::fs::read_to_string(pids.join("pids.max"))?, "20");
    assert_eq!(
        std::fs::read_to_string(memory.join("memory.limit_in_bytes"))?,
        "67108864"
    );
    assert_eq!(run.procs_files().len(), 3);
    assert!(!run.fork_refused() && !run.oom_killed());
    std::fs::write(pids.join("pids.events"), "max 3\n")?;
    std::fs::write(
        memory.join("memory.oom_control"),
        "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
    )?;
    assert!(run.fork_refused() && run.oom_killed());
    assert_eq!(
        owner(&pids.file_name().unwrap_or_default().to_string_lossy()),
        Some(std::process::id() as i32)
    );
    Ok(())
}

#[test]
fn writes_v2_caps_and_kills_through_cgroup_kill() -> std::io::Result<()> {
    let root = tempfile::tempdir()?;
    std::fs::write(root.path().join("cgroup.controllers"), "cpu memory pids")?;
    let parent = root.path().join("user.slice/test.scope");
    std::fs::create_dir_all(&parent)?;
    std::fs::write(parent.join("cgroup.subtree_control"), "memory pids")?;
    let found = Hierarchy::detect(root.path(), "0::/user.slice/test.scope\n")
        .ok_or_else(|| std::io::Error::other("none"))?;
    assert_eq!(
        found,
        Hierarchy::V2 {
            parent: parent.clone(),
            pids: true,
            memory: true
        }
    );
    let run = found
        .create(Caps {
            processes: Some(5),
            memory: Some(1 << 20),
        })
        .ok_or_else(|| std::io::Error::other("not made"))?;
    let dir = run.dirs[0].clone();
    assert_eq!(std::fs::read_to_string(dir.join("pids.max"))?, "5");
    assert_eq!(std::fs::read_to_string(dir.join("memory.max"))?, "1048576");
    assert_eq!(std::fs::read_to_string(dir.join("memory.swap.max"))?, "0");
    std::fs::write(
        dir.join("memory.events"),
        "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
    )?;
    assert!(run.oom_killed());
    std::fs::write(dir.join("cgroup.procs"), "")?;
    run.kill_all();
    assert_eq!(std::fs::read_to_string(dir.join("cgroup.kill"))?, "1");
    Ok(())
}

#[test]
fn without_delegated_controllers_v2_caps_nothing() -> std::io::Result<()> {
    let root = tempfile::tempdir()?;
    std::fs::write(root.path().join("cgroup.controllers"), "")?;
    std::fs::write(root.path().join("cgroup.subtree_control"), "")?;
    let found = Hierarchy::detect(root.path(), "0::/\n").ok_or_else(|| std::io::Error::other("none"))?;
    assert_eq!(found.can_cap(), (false, false));
    Ok(())
}

#[test]
fn sweeps_only_the_cgroups_of_gone_owners() -> std::io::Result<()> {
    let root = tempfile::tempdir()?;
    for name in ["replicate-1-0", "replicate-2-0", "other"] {
        std::fs::create_dir(root.path().join(name))?;
    }
    sweep_in(&[root.path().to_path_buf()], None, false, |pid| pid == 1);
    assert!(!root.path().join("replicate-1-0").exists());
    assert!(root.path().join("replicate-2-0").exists());
    assert!(root.path().join("other").exists());
    Ok(())
}
