# Sourced by the shell scripts in scripts/: read one variable from a .env file without executing it
# (values are not shell code). Bash builtins only. Usage: dotenv_get NAME [FILE] → prints the value
# of the last NAME=… line (surrounding quotes removed), or nothing.
dotenv_get() {
  local name="$1" file="${2:-${ENV_FILE:-.env}}" line value="" found=""
  [ -f "$file" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%$'\r'}"
    line="${line#export }"
    if [[ "$line" == "$name="* ]]; then
      value="${line#*=}"
      found=1
    fi
  done <"$file"
  [ -n "$found" ] || return 0
  # Strip an inline comment from unquoted values, then matching quotes.
  if [[ "$value" == \"*\" || "$value" == \'*\' ]]; then
    value="${value:1:${#value}-2}"
  else
    value="${value%%[[:space:]]#*}"
  fi
  printf '%s' "$value"
}

# Sets NAME from the .env file when it is unset or empty in the environment.
dotenv_default() {
  local name="$1" v
  if [ -z "${!name:-}" ]; then
    v="$(dotenv_get "$name")"
    if [ -n "$v" ]; then printf -v "$name" '%s' "$v"; export "${name?}"; fi
  fi
}
