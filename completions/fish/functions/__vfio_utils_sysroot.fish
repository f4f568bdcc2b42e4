# vfio-utils completion helper: the sysroot the command line being completed
# points at (--sysroot DIR or --sysroot=DIR), else $VFIO_UTILS_SYSROOT.
function __vfio_utils_sysroot
    set -l tokens (commandline -opc)
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case '--sysroot=*'
                string replace -- '--sysroot=' '' $tokens[$i]
                return
            case --sysroot
                set -l next (math $i + 1)
                test $next -le (count $tokens); and echo $tokens[$next]
                return
        end
    end
    echo $VFIO_UTILS_SYSROOT
end
