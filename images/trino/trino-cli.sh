#!/bin/sh
# The trino command-line client (io.trino:trino-cli's executable jar) on the image's JRE.
exec java -jar /usr/lib/trino/cli/trino-cli.jar "$@"
