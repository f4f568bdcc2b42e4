# fish completion for vm-cpus (vfio-utils)

complete -c vm-cpus -f
complete -c vm-cpus -n __fish_use_subcommand -a status -d "The CPUs, the domains' and the host's"
complete -c vm-cpus -n __fish_use_subcommand -a isolate -d "Keep the host off the domain's CPUs"
complete -c vm-cpus -n __fish_use_subcommand -a release -d 'Give them back'
complete -c vm-cpus -l domain-xml -r -F -d 'The domain XML (- for stdin)'
complete -c vm-cpus -l cpus -x -d "isolate: the domain's CPUs, instead of its pins"
complete -c vm-cpus -l governor -x -a 'performance powersave schedutil ondemand conservative userspace' -d 'isolate: their cpufreq governor while it runs'
complete -c vm-cpus -l timeout -x -d 'Wait at most this long for the lock'
complete -c vm-cpus -s n -l dry-run -d 'Print the commands, change nothing'
complete -c vm-cpus -l json -d 'Report as JSON'
complete -c vm-cpus -l sysroot -r -a '(__fish_complete_directories)' -d 'Look up system trees below DIR'
complete -c vm-cpus -s v -l verbose -d 'Log each action'
complete -c vm-cpus -s q -l quiet -d 'Print errors only'
complete -c vm-cpus -s h -l help -d 'Show help'
complete -c vm-cpus -s V -l version -d 'Show version'
