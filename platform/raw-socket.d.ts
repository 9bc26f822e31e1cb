// Types for raw-socket 1.8.1 (it ships none): only what gleand uses.
declare module 'raw-socket' {
  import { EventEmitter } from 'node:events';
  export const AddressFamily: { readonly IPv4: number; readonly IPv6: number };
  export const Protocol: { readonly None: number; readonly ICMP: number; readonly TCP: number; readonly UDP: number; readonly ICMPv6: number };
  export interface SocketOptions { protocol?: number; addressFamily?: number; bufferSize?: number }
  export class Socket extends EventEmitter {
    setOption(level: number, option: number, value: Buffer | number, length?: number): void;
    /** getsockopt into `value`; → the option's length. Throws on an OS error. */
    getOption(level: number, option: number, value: Buffer, length: number): number;
    close(): this;
    on(event: 'message', listener: (buffer: Buffer, source: string) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'close', listener: () => void): this;
  }
  export function createSocket(options?: SocketOptions): Socket;
}
