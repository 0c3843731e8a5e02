import io.grpc.CallOptions;
import io.grpc.HandlerRegistry;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerMethodDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;

/**
 * The least a gRPC hop in grpc-java takes: every unary call on a loopback port is forwarded, as
 * bytes, to the gRPC server on a Unix socket, and its answer back. No parsing, no checks, no
 * thread hand-over (both ends run on their event loops). Run with the gateway's jar, which has
 * grpc-java and netty: {@code java -cp pyml-gateway.jar HopProxy.java <socket>}; prints its
 * port, serves until its standard input closes.
 */
public final class HopProxy {
  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  public static void main(String[] args) throws Exception {
    EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(args[0]))
        .eventLoopGroup(loop)
        .channelType(EpollDomainSocketChannel.class, DomainSocketAddress.class)
        .withOption(ChannelOption.SO_KEEPALIVE, null)
        .usePlaintext()
        .directExecutor()
        .build();
    HandlerRegistry forward = new HandlerRegistry() {
      @Override
      public ServerMethodDefinition<?, ?> lookupMethod(String name, String authority) {
        MethodDescriptor<byte[], byte[]> method = MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(name)
            .setRequestMarshaller(BYTES)
            .setResponseMarshaller(BYTES)
            .build();
        return ServerMethodDefinition.create(method, ServerCalls.asyncUnaryCall(
            (request, answer) -> ClientCalls.asyncUnaryCall(
                channel.newCall(method, CallOptions.DEFAULT), request, answer)));
      }
    };
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .directExecutor()
        .fallbackHandlerRegistry(forward)
        .build()
        .start();
    System.out.println(server.getPort());
    System.out.flush();
    while (System.in.read() >= 0) {
      // until the caller closes our standard input (or goes away)
    }
    server.shutdownNow();
    channel.shutdownNow();
    loop.shutdownGracefully();
  }
}
