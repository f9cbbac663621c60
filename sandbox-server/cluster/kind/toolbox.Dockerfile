# The learner's toolbox for the kind provider (the local provider builds the same image offline with buildah).
FROM debian:bookworm-slim
ARG KUBECTL_VERSION=v1.35.4
RUN apt-get update && apt-get install -y --no-install-recommends bash bash-completion vim-tiny nano less curl \
      ca-certificates tmux procps && rm -rf /var/lib/apt/lists/* \
 && curl -fsSLo /usr/local/bin/kubectl "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/amd64/kubectl" \
 && chmod +x /usr/local/bin/kubectl \
 && groupadd -g 1000 learner && useradd -m -u 1000 -g 1000 -s /bin/bash learner \
 && printf '%s\n' 'source /usr/share/bash-completion/bash_completion' 'source <(kubectl completion bash)' \
      'alias k=kubectl' 'complete -o default -F __start_kubectl k' >> /etc/bash.bashrc
ENV TERM=xterm-256color LANG=C.UTF-8
USER 1000
WORKDIR /home/learner
CMD ["sleep", "infinity"]
